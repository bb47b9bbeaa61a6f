// The queue page's keyboard: j/k move a focus ring between the rows, Enter opens the
// focused item, x toggles its checkbox, / goes to the search box, ? shows the keys.
// Keys are ignored while typing in a text field. Everything here is a shortcut: the page
// works without it (links, checkboxes and plain forms). Message text is never read or
// written as HTML here (textContent only).
(function () {
  "use strict";

  var table = document.querySelector("table.queue");
  var help = document.getElementById("keys-help");
  var search = document.getElementById("q");
  var count = document.getElementById("bulk-count");
  var all = document.getElementById("select-all");
  var fold = document.querySelector("details.fold");
  var current = -1;

  function rows() {
    return table ? Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-item]")) : [];
  }

  function boxes() {
    return table ? Array.prototype.slice.call(table.querySelectorAll("input.pick")) : [];
  }

  function typing(el) {
    if (!el || el === document.body) return false;
    if (el.isContentEditable) return true;
    var tag = el.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") return true;
    if (tag !== "INPUT") return false;
    var type = (el.getAttribute("type") || "text").toLowerCase();
    return ["checkbox", "radio", "button", "submit", "reset"].indexOf(type) < 0;
  }

  function focusRow(n) {
    var list = rows();
    if (!list.length) return;
    n = Math.max(0, Math.min(list.length - 1, n));
    list.forEach(function (row, i) {
      if (i === n) {
        row.classList.add("kbd-focus");
        row.setAttribute("aria-current", "true");
      } else {
        row.classList.remove("kbd-focus");
        row.removeAttribute("aria-current");
      }
    });
    current = n;
    var link = list[n].querySelector("a.open");
    if (link) link.focus({ preventScroll: true });
    list[n].scrollIntoView({ block: "nearest" });
  }

  function focused() {
    var list = rows();
    return current >= 0 && current < list.length ? list[current] : null;
  }

  function updateCount() {
    if (!count) return;
    var picked = boxes().filter(function (b) { return b.checked; }).length;
    count.textContent = picked ? picked + " selected" : "";
    if (all) {
      var list = boxes();
      all.checked = list.length > 0 && picked === list.length;
      all.indeterminate = picked > 0 && picked < list.length;
    }
  }

  function toggleHelp(show) {
    if (!help) return;
    help.hidden = show === undefined ? !help.hidden : !show;
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.defaultPrevented || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (typing(ev.target)) {
      if (ev.key === "Escape" && ev.target === search) search.blur();
      return;
    }
    var row;
    switch (ev.key) {
      case "j":
        focusRow(current < 0 ? 0 : current + 1);
        break;
      case "k":
        focusRow(current < 0 ? 0 : current - 1);
        break;
      case "Enter":
        row = focused();
        var tag = ev.target && ev.target.tagName;
        if (!row || tag === "A" || tag === "BUTTON" || tag === "SUMMARY") return; // their own Enter
        var link = row.querySelector("a.open");
        if (link) window.location.assign(link.href);
        break;
      case "x":
        row = focused();
        var box = row && row.querySelector("input.pick");
        if (!box) return;
        box.checked = !box.checked;
        box.dispatchEvent(new Event("change", { bubbles: true }));
        break;
      case "/":
        if (!search) return;
        search.focus();
        search.select();
        break;
      case "?":
        toggleHelp();
        break;
      case "Escape":
        if (!help || help.hidden) return;
        toggleHelp(false);
        break;
      default:
        return;
    }
    ev.preventDefault();
  });

  if (table) {
    table.addEventListener("change", function (ev) {
      if (ev.target && ev.target.classList && ev.target.classList.contains("pick")) updateCount();
    });
    // A click on a row moves the focus ring there (so j/k go on from it).
    table.addEventListener("click", function (ev) {
      var list = rows();
      for (var el = ev.target; el && el !== table; el = el.parentElement) {
        var n = list.indexOf(el);
        if (n >= 0) {
          current = n;
          list.forEach(function (r, i) {
            r.classList.toggle("kbd-focus", i === n);
            if (i === n) r.setAttribute("aria-current", "true");
            else r.removeAttribute("aria-current");
          });
          return;
        }
      }
    });
  }

  if (all) {
    all.hidden = false;
    all.addEventListener("change", function () {
      boxes().forEach(function (b) { b.checked = all.checked; });
      updateCount();
    });
  }

  var closeHelp = document.getElementById("keys-help-close");
  if (closeHelp) closeHelp.addEventListener("click", function () { toggleHelp(false); });
  var hint = document.getElementById("keys-hint");
  if (hint) {
    hint.hidden = false;
    hint.addEventListener("click", function () { toggleHelp(); });
  }

  // The filters are folded on a phone; on a wide screen the stylesheet shows them open.
  // For a browser without ::details-content, open them here.
  if (fold && window.matchMedia && window.matchMedia("(min-width: 721px)").matches) {
    fold.open = true;
  }

  updateCount();
})();
