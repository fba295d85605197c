/* Inside Canvas, ask the LMS to size the frame to the page (lti.frameResize), so there is one scrollbar.
   The target origin is "*" on purpose: the parent is the district's Canvas domain, which the tool does not
   know (the issuer is canvas.instructure.com for every hosted Canvas), and the message carries only a height. */
(function () {
  "use strict";
  if (window.parent === window) { return; }
  var last = 0;
  function report() {
    var height = Math.ceil(document.documentElement.scrollHeight);
    if (Math.abs(height - last) < 4) { return; }
    last = height;
    window.parent.postMessage({subject: "lti.frameResize", height: height}, "*");
  }
  window.addEventListener("load", report);
  if (window.ResizeObserver) { new ResizeObserver(report).observe(document.body); }
})();
