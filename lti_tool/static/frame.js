/* Inside Canvas (or any LMS frame), two things a page cannot do alone:

   1. Ask the LMS to size the frame to the page (lti.frameResize), so there is one scrollbar. The height is the
      content's own, never the frame's: document.documentElement.scrollHeight is at least the frame's height,
      so a page reporting it could grow the frame and never shrink it again (after the long editor every page
      would sit in a 5,000 px frame). Reported on load and whenever the content's height changes, both ways.
      The target origin is "*" on purpose: the parent is the district's Canvas domain, which the tool does
      not know (the issuer is canvas.instructure.com for every hosted Canvas), and the message carries only
      a height.
   2. Open links that leave the tool (another origin) in a new tab, and say so to screen readers: inside a
      frame they would otherwise open a Canvas page, or another site that refuses to be framed, inside the
      tool's small rectangle. A link whose template sets its own target (_top, _parent, _self) is left alone.

   An external file, loaded by base.html: the Content-Security-Policy allows no inline script. */
(function () {
  "use strict";
  if (window.parent === window) { return; }

  var NEW_TAB_NOTE = document.documentElement.getAttribute("data-new-tab-note") || "(opens in a new tab)";
  var last = -1;
  var pending = false;

  /* The bottom of the content: the lowest margin box among body's children, plus body's and html's padding,
     border and margin below it. Independent of the frame's height, unlike scrollHeight. */
  function contentHeight() {
    var body = document.body;
    if (!body) { return 0; }
    var bottom = 0;
    var children = body.children;
    for (var i = 0; i < children.length; i++) {
      var child = children[i];
      var style = window.getComputedStyle(child);
      if (style.display === "none" || style.position === "fixed") { continue; }
      var rect = child.getBoundingClientRect();
      if (rect.width === 0 && rect.height === 0) { continue; }
      bottom = Math.max(bottom, rect.bottom + (parseFloat(style.marginBottom) || 0));
    }
    [body, document.documentElement].forEach(function (element) {
      var style = window.getComputedStyle(element);
      bottom += (parseFloat(style.paddingBottom) || 0) + (parseFloat(style.borderBottomWidth) || 0)
        + (parseFloat(style.marginBottom) || 0);
    });
    return Math.ceil(bottom + window.scrollY);
  }

  function report() {
    pending = false;
    var height = contentHeight();
    if (height <= 0 || Math.abs(height - last) < 2) { return; }
    last = height;
    window.parent.postMessage({subject: "lti.frameResize", height: height}, "*");
  }

  /* Coalesce a burst of changes (a live preview re-rendering) into one message per frame. */
  function schedule() {
    if (pending) { return; }
    pending = true;
    (window.requestAnimationFrame || window.setTimeout)(report);
  }

  function isExternal(link) {
    if (!/^https?:$/.test(link.protocol)) { return false; }
    return link.origin !== window.location.origin;
  }

  function markExternal(link) {
    if (link.hasAttribute("data-new-tab") || !isExternal(link)) { return; }
    var target = link.getAttribute("target");
    if (target && target !== "_blank") { return; }  /* the template chose where it goes */
    link.setAttribute("data-new-tab", "");
    link.setAttribute("target", "_blank");
    var rel = (link.getAttribute("rel") || "").split(/\s+/).filter(Boolean);
    if (rel.indexOf("noopener") < 0) { rel.push("noopener"); }
    link.setAttribute("rel", rel.join(" "));
    if (/opens in a new (tab|window)/i.test(link.textContent + " " + (link.getAttribute("aria-label") || ""))) {
      return;
    }
    var note = document.createElement("span");
    note.setAttribute("data-new-tab-note", "");
    note.textContent = " " + NEW_TAB_NOTE;
    /* Hidden but read, set through the CSSOM (which CSP allows). Inline-block rather than absolute: an
       absolute span in a link inside a table's scroller would escape the scroller (its containing block is
       further out) and make the whole page scroll sideways at 360 px. */
    var s = note.style;
    s.display = "inline-block"; s.width = "1px"; s.height = "1px"; s.margin = "-1px"; s.padding = "0";
    s.overflow = "hidden"; s.clipPath = "inset(50%)"; s.whiteSpace = "nowrap"; s.border = "0";
    s.verticalAlign = "bottom";
    if (link.getAttribute("aria-label")) {
      link.setAttribute("aria-label", link.getAttribute("aria-label") + " " + NEW_TAB_NOTE);
    }
    link.appendChild(note);
  }

  function markLinks(root) {
    if (root.nodeType !== 1) { return; }
    if (root.tagName === "A" && root.hasAttribute("href")) { markExternal(root); }
    var links = root.querySelectorAll("a[href]");
    for (var i = 0; i < links.length; i++) { markExternal(links[i]); }
  }

  function start() {
    markLinks(document.body);
    if (window.MutationObserver) {  /* links a script adds later (the editor's live preview) */
      new MutationObserver(function (changes) {
        changes.forEach(function (change) {
          for (var i = 0; i < change.addedNodes.length; i++) { markLinks(change.addedNodes[i]); }
        });
      }).observe(document.body, {childList: true, subtree: true});
    }
    if (window.ResizeObserver) {
      var observer = new ResizeObserver(schedule);
      observer.observe(document.documentElement);
      observer.observe(document.body);
      for (var i = 0; i < document.body.children.length; i++) { observer.observe(document.body.children[i]); }
    }
    schedule();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
  window.addEventListener("load", schedule);
  /* Fonts and images that arrive after load change the height without resizing body in every browser. */
  if (document.fonts && document.fonts.ready) { document.fonts.ready.then(schedule); }
})();
