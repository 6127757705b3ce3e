// Click-to-load players: nothing is requested from a video or podcast
// provider until the visitor presses the button. Only players allowed by
// the Content-Security-Policy (frame-src) can load at all.
"use strict";
(function () {
  var allowed = ["https://www.youtube-nocookie.com/", "https://player.vimeo.com/"];
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.media-load") : null;
    if (!button) return;
    var src = button.getAttribute("data-src") || "";
    if (!allowed.some(function (prefix) { return src.indexOf(prefix) === 0; })) return;
    var frame = document.createElement("iframe");
    frame.src = src;
    frame.title = button.getAttribute("data-title") || "";
    frame.loading = "lazy";
    frame.allow = "fullscreen; picture-in-picture";
    frame.referrerPolicy = "strict-origin-when-cross-origin";
    frame.className = "media-frame";
    button.replaceWith(frame);
  });
})();
