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
  // The selection is kept by the row's identity (its port-out), in the history entry too,
  // so a refresh that swaps rows, and Back to this page, find the same row again.
  let selectedKey = null;
  function rowKey(row) { return row.dataset.id || row.dataset.href; }
  function rows() {
    const found = [];
    document.querySelectorAll("table[data-rows]").forEach(function (table) {
      const closed = table.closest("details:not([open])");
      if (closed) return;
      found.push.apply(found, table.querySelectorAll("tbody tr[data-href]"));
    });
    return found;
  }
  function selectedIndex(list) {
    return list.findIndex(function (r) { return r.classList.contains("selected"); });
  }
  function remember(key) {
    selectedKey = key;
    try {
      history.replaceState(Object.assign({}, history.state || {}, { selectedRow: key }), "");
    } catch (e) { /* a history entry that cannot be written keeps the selection in memory */ }
  }
  function mark(list, row) {
    list.forEach(function (r) {
      if (r === row) return;
      r.classList.remove("selected");
      r.removeAttribute("aria-selected");
    });
    row.classList.add("selected");
    row.setAttribute("aria-selected", "true");
  }
  function select(list, index) {
    const row = list[index];
    if (!row) return;
    mark(list, row);
    remember(rowKey(row));
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }
  // After a refresh or on Back: select the remembered row again; focus it when the swap
  // took the focus away with the old row (never from a field being typed in).
  function restoreSelection() {
    const state = history.state || {};
    const key = selectedKey || state.selectedRow;
    if (!key) return;
    selectedKey = key;
    const list = rows();
    const row = list.find(function (r) { return rowKey(r) === key; });
    if (!row) return;
    mark(list, row);
    const active = document.activeElement;
    if (!active || active === document.body) row.focus({ preventScroll: true });
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
  // On the queue, Enter with nothing selected opens the most urgent port-out.
  function openMostUrgent() {
    if (!document.querySelector("[data-section]")) return false;
    const first = rows()[0];
    if (!first) return false;
    window.location.href = first.dataset.href;
    return true;
  }
  // "g" then a letter jumps to the first row of a queue section (d: due soon, w: in the
  // window, p: past the window, opening its collapsed rows; they are read from the server
  // when it first opens, so the jump waits for them).
  const JUMPS = { d: "due_soon", w: "in_window", p: "past_window" };
  let awaitingJump = 0;
  function jump(letter) {
    const section = document.querySelector('[data-section="' + JUMPS[letter] + '"]');
    if (!section) return false;
    const folded = section.querySelector("details[data-section-rows]");
    if (folded && section.querySelector("tr[data-loading]")) {
      section.addEventListener("htmx:afterSettle", function () { selectFirst(section); }, { once: true });
    }
    if (folded) folded.open = true;
    selectFirst(section);
    return true;
  }
  function selectFirst(section) {
    const first = section.querySelector("tbody tr[data-href]");
    if (!first) { section.scrollIntoView({ block: "start" }); return; }
    const list = rows();
    select(list, list.indexOf(first));
  }

  // --- time left ------------------------------------------------------------------------
  // The server writes "3 h 10 min left"; between refreshes the count goes on here, in the
  // same words (portouts.urgency.left_text), so an open queue never shows an old figure.
  function duration(ms) {
    const minutes = Math.floor(Math.abs(ms) / 60000);
    const days = Math.floor(minutes / 1440);
    const hours = Math.floor((minutes % 1440) / 60);
    const mins = minutes % 60;
    if (days) return days + " d " + hours + " h";
    if (hours) return hours + " h " + mins + " min";
    return mins + " min";
  }
  function tick() {
    const now = Date.now();
    document.querySelectorAll("time[data-due]").forEach(function (el) {
      const left = Date.parse(el.dataset.due) - now;
      if (isNaN(left)) return;
      el.textContent = left <= 0 ? "Overdue " + duration(left) : duration(left) + " left";
    });
  }
  window.setInterval(tick, 30000);

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
    if (awaitingJump && Date.now() - awaitingJump < 1500 && JUMPS[event.key]) {
      awaitingJump = 0;
      if (jump(event.key)) event.preventDefault();
      return;
    }
    awaitingJump = 0;
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "Enter": {
        if (event.target.closest && event.target.closest("a, button, summary")) return;
        if (selectedIndex(rows()) >= 0) openSelected();
        else if (!openMostUrgent()) return;
        break;
      }
      case "g":
        if (!document.querySelector("[data-section]")) return;
        awaitingJump = Date.now();
        break;
      case "n": {
        const next = document.querySelector("a[data-next-portout]");
        if (!next) return;
        window.location.href = next.href;
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
  document.addEventListener("DOMContentLoaded", function () { syncReasonFlag(); restoreSelection(); });
  // Back to a page kept whole by the browser (back/forward cache): the selection is still
  // drawn, but focus it again.
  window.addEventListener("pageshow", function (event) { if (event.persisted) restoreSelection(); });

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

  // After any swap (a refresh of rows, sections or results): the same row stays selected.
  document.addEventListener("htmx:afterSettle", function () { restoreSelection(); tick(); });
  // Opening or closing a decision panel tells the server (presence: "deciding"); its answer
  // warns when someone else is deciding the same port-out. The toggle event does not bubble.
  document.addEventListener("toggle", function (event) {
    const panel = event.target;
    const box = document.getElementById("deciding-warning");
    if (!box || !window.htmx || !panel.matches || !panel.matches("details[data-panel]")) return;
    const open = document.querySelector("details[data-panel][open]") ? "1" : "0";
    if (box.dataset.sent === open) return;
    box.dataset.sent = open;
    window.htmx.ajax("POST", box.dataset.decidingUrl, {
      source: box, target: "#deciding-warning", swap: "outerHTML", values: { open: open },
    });
  }, true);

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
    if (elt.id === "deciding-warning") return; // presence ("deciding") is not an action
    if (!elt.closest("#decision, #comment-form, #upload-form, #note-form")) return;
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
