// Portico's only script: progressive enhancements. Every page works
// without it; the Content-Security-Policy allows no inline script, so all
// behaviour lives here and is attached to markup by data attributes.
(function () {
  "use strict";

  // copyText writes text to the clipboard, falling back to a selection
  // and execCommand where the asynchronous Clipboard API is unavailable
  // (plain http on a host other than localhost).
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "offscreen";
      document.body.appendChild(area);
      area.select();
      try {
        if (document.execCommand("copy")) {
          resolve();
        } else {
          reject(new Error("copy refused"));
        }
      } catch (err) {
        reject(err);
      } finally {
        document.body.removeChild(area);
      }
    });
  }

  // Copy buttons are rendered hidden, so that a browser without this
  // script never shows a button that does nothing.
  function enableCopyButtons() {
    var buttons = document.querySelectorAll("button[data-copy-target]");
    Array.prototype.forEach.call(buttons, function (button) {
      var target = document.getElementById(button.getAttribute("data-copy-target"));
      var status = document.getElementById(button.getAttribute("data-copy-status"));
      if (!target) {
        return;
      }
      var label = button.textContent;
      var timer = 0;
      button.hidden = false;
      button.addEventListener("click", function () {
        copyText(target.textContent).then(
          function () { announce("Copied to the clipboard."); },
          function () { announce("Could not copy; select the text and copy it by hand."); }
        );
      });
      function announce(message) {
        if (status) {
          status.textContent = message;
        }
        button.textContent = message.indexOf("Copied") === 0 ? "Copied" : label;
        window.clearTimeout(timer);
        timer = window.setTimeout(function () {
          button.textContent = label;
          if (status) {
            status.textContent = "";
          }
        }, 2500);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", enableCopyButtons);
  } else {
    enableCopyButtons();
  }
})();
