/* Chinese for the theme's remaining English tooltips and labels (pydata/sphinx-book-theme ship no
   zh_CN strings for these). Jupyter Book includes every *.js under _static on every page. */
(function () {
  var zh = {
    "Link to this heading": "本节链接", "Toggle hidden content": "显示/隐藏",
    "Toggle primary sidebar": "章节目录", "Toggle secondary sidebar": "本页目录",
    "Color mode": "明暗模式", "System Settings": "跟随系统", "Light": "浅色", "Dark": "深色",
    "Fullscreen mode": "全屏", "Search this book...": "搜索本书……", "Search": "搜索",
    "Copy": "复制", "Copied!": "已复制", "Copy to clipboard": "复制到剪贴板", "Main": "章节导航", "Page": "本页导航"
  };
  var attrs = ["title", "aria-label", "data-bs-title", "data-bs-original-title", "placeholder", "data-tooltip"];
  function translate(root) {
    attrs.forEach(function (a) {
      (root || document).querySelectorAll("[" + a + "]").forEach(function (el) {
        var v = el.getAttribute(a);
        if (Object.prototype.hasOwnProperty.call(zh, v)) el.setAttribute(a, zh[v]);
      });
    });
  }
  // the widget bundle gives labels without a tooltip the literal tooltip "null"
  function dropNullTitles(root) {
    (root || document).querySelectorAll('[title="null"]').forEach(function (el) { el.removeAttribute("title"); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    translate();
    if (document.querySelector('script[type="application/vnd.jupyter.widget-view+json"]')) {
      new MutationObserver(function () { dropNullTitles(); }).observe(document.body, {
        subtree: true, childList: true, attributes: true, attributeFilter: ["title"]});
    }
  });
  window.addEventListener("load", function () { translate(); });
})();
