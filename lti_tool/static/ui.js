/* The design system's small behaviours; every page works without them.
   - A refused form's error summary takes focus when the page opens, and the platform is asked to scroll its
     window to the tool (Canvas's lti.scrollToTop), so the summary is what the person sees and hears first.
   - A form marked data-confirm="<dialog id>" asks in that native <dialog> first (Escape or Cancel closes it);
     without JavaScript the server answers the plain POST with a page that asks the same. */
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
    summary.scrollIntoView({block: "start"});
    if (window.parent !== window) {
      window.parent.postMessage({subject: "lti.scrollToTop"}, "*");
    }
  }
  Array.prototype.forEach.call(document.querySelectorAll("form[data-confirm]"), function (form) {
    var dialog = document.getElementById(form.getAttribute("data-confirm"));
    if (!dialog || typeof dialog.showModal !== "function") { return; }
    var opener = form.querySelector("button");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      dialog.showModal();
    });
    Array.prototype.forEach.call(dialog.querySelectorAll("[data-close]"), function (button) {
      button.addEventListener("click", function () { dialog.close(); });
    });
    dialog.addEventListener("close", function () { if (opener) { opener.focus(); } });
  });
})();
