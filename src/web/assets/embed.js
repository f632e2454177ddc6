// Signpost's chat on a council's own website. The council adds one line to
// its pages:
//   <script src="https://SIGNPOST/c/COUNCIL/embed.js" defer></script>
// and this puts a button at the bottom of the page that opens the chat in a
// dialog, in a frame served by Signpost (which only lets the sites in the
// council's embed.allowed_sites show it). Focus moves into the chat when it
// opens and back to the button when it closes; Escape closes it, from the
// page or from inside the chat. Nothing is read from the council's page.
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || !me.src) return;
  var here = new URL(me.src);
  var origin = here.origin;
  var chat = new URL(here.pathname.replace(/embed\.js$/, ""), origin);
  chat.search = "embed=1";
  var label = me.getAttribute("data-label") || "Ask a question about adult social care";
  // The council's colour (branding.accent, checked for contrast with white).
  var accent = "#1d4f91";

  var button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  button.setAttribute("aria-haspopup", "dialog");
  var b = button.style;
  b.position = "fixed"; b.right = "1rem"; b.bottom = "1rem"; b.zIndex = "2147483000";
  b.minHeight = "44px"; b.maxWidth = "calc(100vw - 2rem)"; b.padding = "0.6rem 1rem";
  b.font = "inherit"; b.fontSize = "1rem"; b.lineHeight = "1.3"; b.fontWeight = "bold";
  b.color = "#ffffff"; b.background = accent; b.border = "2px solid #ffffff";
  b.borderRadius = "0.3rem"; b.boxShadow = "0 0 0 2px " + accent; b.cursor = "pointer";

  var dialog = document.createElement("dialog");
  dialog.setAttribute("aria-label", label);
  var d = dialog.style;
  d.padding = "0"; d.border = "2px solid #0b0c0c"; d.width = "100%"; d.maxWidth = "34rem";
  d.height = "100%"; d.maxHeight = "min(48rem, 100vh)"; d.boxSizing = "border-box";
  d.background = "#ffffff"; d.color = "#0b0c0c";

  var bar = document.createElement("div");
  bar.style.display = "flex"; bar.style.justifyContent = "flex-end";
  bar.style.padding = "0.25rem"; bar.style.borderBottom = "1px solid #505a5f";
  var close = document.createElement("button");
  close.type = "button";
  close.textContent = "Close the chat";
  var c = close.style;
  c.minHeight = "44px"; c.padding = "0.4rem 0.8rem"; c.font = "inherit"; c.fontSize = "1rem";
  c.color = "#0b0c0c"; c.background = "#f3f2f1"; c.border = "2px solid #0b0c0c"; c.cursor = "pointer";
  bar.appendChild(close);

  var frame = document.createElement("iframe");
  frame.title = label;
  var f = frame.style;
  f.display = "block"; f.width = "100%"; f.height = "calc(100% - 3.5rem)"; f.border = "0";
  dialog.appendChild(bar);
  dialog.appendChild(frame);

  function intoChat() {
    frame.focus();
    if (frame.contentWindow) frame.contentWindow.postMessage({ signpost: "focus" }, origin);
  }
  function open() {
    if (!frame.src) {
      frame.addEventListener("load", intoChat);
      frame.src = chat.href;
    }
    dialog.showModal();
    button.setAttribute("aria-expanded", "true");
    if (frame.src) intoChat();
  }
  // Closed: the button says so and has focus again. (Also on the dialog's
  // own close event, for Escape pressed on the page around the chat.)
  function closed() {
    button.setAttribute("aria-expanded", "false");
    button.focus();
  }
  function shut() {
    if (dialog.open) dialog.close();
    closed();
  }
  button.addEventListener("click", open);
  close.addEventListener("click", shut);
  dialog.addEventListener("close", closed);
  window.addEventListener("message", function (e) {
    if (e.origin !== origin || e.source !== frame.contentWindow) return;
    if (e.data && e.data.signpost === "close") shut();
  });
  button.setAttribute("aria-expanded", "false");

  function place() {
    document.body.appendChild(button);
    document.body.appendChild(dialog);
  }
  if (document.body) place();
  else document.addEventListener("DOMContentLoaded", place);
})();
