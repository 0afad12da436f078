/* @jupyter-widgets/controls typesets widget labels through the MathJax 2 API (MathJax.Hub.Queue);
   this book loads MathJax 3. Map that call onto MathJax 3's typesetPromise, before the widgets
   render (this script is deferred and listed before embed.js, so its load listener runs first). */
(function () {
  function queue(args) {
    var el = Array.isArray(args) ? args[2] : undefined;
    var mj = window.MathJax;
    if (!mj || typeof mj.typesetPromise !== "function") return;
    var ready = mj.startup && mj.startup.promise ? mj.startup.promise : Promise.resolve();
    ready.then(function () { return mj.typesetPromise(el ? [el] : undefined); }).catch(function () {});
  }
  function install() {
    var mj = window.MathJax;
    if (mj && !mj.Hub) {
      try { mj.Hub = { Queue: queue }; } catch (e) { /* frozen object: leave it */ }
    }
  }
  window.addEventListener("load", install);
})();
