// Review dashboard: keyboard triage and small progressive enhancements.
// Everything here is optional: every page and form works without JavaScript.
(function () {
  "use strict";
  function typing(event) {
    const t = event.target;
    return t && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName));
  }
  function modalOpen() {
    const dialog = document.getElementById("keys-dialog");
    return dialog && dialog.open;
  }

  // --- keyboard help: "?" opens the list of shortcuts; Escape closes it --------------------
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

  // --- j/k and Enter on tables with [data-rows] ---------------------------------------
  function rows() {
    const table = document.querySelector("table[data-rows]");
    return table ? Array.from(table.querySelectorAll("tbody tr[data-href]")) : [];
  }
  function selectedIndex(list) {
    return list.findIndex(function (r) { return r.classList.contains("selected"); });
  }
  function select(list, index) {
    list.forEach(function (r) { r.classList.remove("selected"); r.removeAttribute("aria-selected"); });
    const row = list[index];
    if (!row) return;
    row.classList.add("selected");
    row.setAttribute("aria-selected", "true");
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }
  function move(step) {
    const list = rows();
    if (!list.length) return;
    const current = selectedIndex(list);
    const next = current < 0 ? 0 : Math.min(list.length - 1, Math.max(0, current + step));
    select(list, next);
  }
  function openSelected() {
    const list = rows();
    const row = list[selectedIndex(list)];
    if (row) window.location.href = row.dataset.href;
  }

  // --- a / r on the port-out page ---------------------------------------------------------
  function openPanel(name) {
    const panel = document.querySelector('details[data-panel="' + name + '"]');
    if (!panel) return false;
    document.querySelectorAll("details[data-panel]").forEach(function (d) { d.open = d === panel; });
    const field = panel.querySelector("select, textarea, input:not([type=hidden])");
    if (field) field.focus();
    panel.scrollIntoView({ block: "nearest" });
    return true;
  }

  // --- the reason of a rejection ------------------------------------------------------------
  // The server renders, on each code's <option>, whether it needs a reason and what is sent
  // when the reason is left empty (portouts.review.rules); this only shows it.
  function syncReasonFlag(root) {
    (root || document).querySelectorAll("select[data-reason-select]").forEach(function (select) {
      const form = select.form;
      const option = select.options[select.selectedIndex];
      const data = option ? option.dataset : {};
      const required = data.reasonRequired === "true";
      const flag = form.querySelector("[data-reason-flag]");
      const reason = form.querySelector("textarea[name=reason]");
      if (flag) flag.hidden = !required;
      if (reason) {
        reason.required = required;
        reason.placeholder = data.reasonWhenEmpty ? "Left empty: " + data.reasonWhenEmpty : "";
      }
    });
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey) {
      // Ctrl+Enter sends the form being typed in.
      if (event.key === "Enter" && typing(event) && event.target.form) {
        event.preventDefault();
        event.target.form.requestSubmit();
      }
      return;
    }
    if (event.altKey) return;
    if (typing(event)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    if (modalOpen()) return;
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "Enter": {
        const list = rows();
        if (selectedIndex(list) < 0) return;
        if (event.target.closest && event.target.closest("a, button, summary")) return;
        openSelected();
        break;
      }
      case "/": {
        const search = document.querySelector("[data-search]");
        if (!search) return;
        search.focus();
        search.select();
        break;
      }
      case "a": if (!openPanel("authorize")) return; break;
      case "r": if (!openPanel("reject")) return; break;
      default: return;
    }
    event.preventDefault();
  });

  // A click anywhere on a row opens it (links and buttons keep their own behaviour).
  document.addEventListener("click", function (event) {
    const row = event.target.closest("tr[data-href]");
    if (!row || event.target.closest("a, button, input, select, textarea, label")) return;
    if (window.getSelection && String(window.getSelection())) return;
    window.location.href = row.dataset.href;
  });

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("select[data-reason-select]")) syncReasonFlag();
  });
  document.addEventListener("DOMContentLoaded", function () { syncReasonFlag(); });

  // Leave empty filters out of the address so bookmarked views stay readable.
  document.addEventListener("htmx:configRequest", function (event) {
    const elt = event.detail.elt;
    if (event.detail.verb !== "get" || !elt || elt.id !== "filters") return;
    const params = event.detail.parameters;
    const names = params instanceof FormData ? Array.from(new Set(params.keys())) : Object.keys(params);
    names.forEach(function (name) {
      const values = params instanceof FormData ? params.getAll(name) : [].concat(params[name]);
      if (values.every(function (v) { return v === "" || v === null; })) {
        if (params instanceof FormData) params.delete(name); else delete params[name];
      }
    });
  });

  // Pollers skip their turn while the tab is hidden (an hx-trigger filter would need eval,
  // which the Content-Security-Policy forbids).
  document.addEventListener("htmx:beforeRequest", function (event) {
    const elt = event.detail.elt;
    if (document.hidden && elt && elt.classList.contains("poller")) event.preventDefault();
  });

  // --- a document over Telnyx's limit is refused before it is sent -------------------------
  // The limit and the sentence come from the server (data-max-bytes, data-too-large); the
  // server still checks every upload.
  function checkFileSize(input) {
    const max = Number(input.dataset.maxBytes);
    const file = input.files && input.files[0];
    const message = file && max && file.size > max ? input.dataset.tooLarge : "";
    input.setCustomValidity(message);
    input.toggleAttribute("aria-invalid", Boolean(message));
    const error = input.form && input.form.querySelector("[data-size-error]");
    if (error) { error.textContent = message; error.hidden = !message; }
    return !message;
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("input[type=file][data-max-bytes]")) {
      checkFileSize(event.target);
    }
  });
  document.addEventListener("submit", function (event) {
    const input = event.target.querySelector && event.target.querySelector("input[type=file][data-max-bytes]");
    if (input && !checkFileSize(input)) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  // One message per action: a new action clears the notices of the previous ones.
  document.addEventListener("htmx:beforeRequest", function (event) {
    const elt = event.detail.elt;
    if (event.defaultPrevented || !elt || elt.classList.contains("poller")) return;
    if (!elt.closest("#decision, #comment-form, #upload-form")) return;
    document.querySelectorAll("[data-notice], #messages > .message").forEach(function (n) { n.remove(); });
  });

  // After a swap: focus what the server marked (e.g. the Confirm button), refresh flags.
  document.addEventListener("htmx:afterSwap", function (event) {
    let target = event.detail.target;
    syncReasonFlag();
    if (!target) return;
    // An outerHTML swap replaces the target: find its successor by id.
    if (!target.isConnected && target.id) target = document.getElementById(target.id);
    if (!target || ["results", "poller", "board"].includes(target.id)) return;
    const auto = target.matches("[autofocus]") ? target : target.querySelector("[autofocus]");
    if (auto) auto.focus();
    // A confirmation is shown whole, below the sticky header (scroll-margin in app.css).
    const confirm = target.querySelector(".confirm");
    if (confirm) confirm.scrollIntoView({ block: "nearest" });
  });
})();
