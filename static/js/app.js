// Keyboard help: "?" opens the list of shortcuts; Escape closes it.
(function () {
  "use strict";
  function typing(event) {
    const t = event.target;
    return t && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName));
  }
  function toggleKeys() {
    const dialog = document.getElementById("keys-dialog");
    if (!dialog) return;
    if (dialog.open) dialog.close(); else dialog.showModal();
  }
  document.addEventListener("keydown", function (event) {
    if (event.key === "?" && !typing(event) && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      toggleKeys();
    }
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-show-keys]")) toggleKeys();
  });
})();
