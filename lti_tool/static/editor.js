/* The catalog editor's live preview: post the unsaved form, show what a teacher would see. */
(function () {
  "use strict";
  var form = document.getElementById("editor");
  var pane = document.getElementById("preview");
  if (!form || !pane) { return; }
  var timer = null, inFlight = null;
  function refresh() {
    if (inFlight) { inFlight.abort(); }
    inFlight = new AbortController();
    fetch(form.dataset.preview, {method: "POST", body: new FormData(form), credentials: "include",
                                 signal: inFlight.signal})
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) { pane.innerHTML = html; })
      .catch(function (error) { if (error && error.name === "AbortError") { return; } });
  }
  form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(refresh, 400); });
  refresh();
})();
