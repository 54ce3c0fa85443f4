// The pages' few scripts: confirm destructive actions, select all on the page, and the
// curator's keys for rows and for the item's verdict. Filters refresh in place with htmx.
// Everything works without them.
(function () {
  "use strict";
  // On a phone a list is a stack of cards: each cell says which column it is.
  var label = function (root) {
    root.querySelectorAll("table.cards").forEach(function (table) {
      var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) { return th.textContent.trim(); });
      table.querySelectorAll("tbody tr").forEach(function (row) {
        Array.prototype.forEach.call(row.children, function (cell, index) {
          if (!cell.hasAttribute("data-label") && !cell.hasAttribute("colspan") && heads[index] && !cell.classList.contains("card-title") && !cell.classList.contains("card-action")) {
            cell.setAttribute("data-label", heads[index]);
          }
        });
      });
    });
  };
  label(document);
  // Results a filter brought in place (htmx) are labelled like the page, and the row keys start over.
  document.addEventListener("htmx:afterSettle", function () { label(document); current = -1; });
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) { event.preventDefault(); }
  });
  var boxes = function () { return document.querySelectorAll("input[name=item], input[name=escalation]"); };
  document.addEventListener("change", function (event) {
    if (event.target.id !== "select-all") { return; }
    boxes().forEach(function (box) { box.checked = event.target.checked; });
  });
  var typing = function (event) {
    var tag = event.target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || event.target.isContentEditable;
  };
  var rows = function () { return Array.prototype.slice.call(document.querySelectorAll("#queue tbody tr")); };
  var current = -1;
  var focusRow = function (index) {
    var list = rows();
    if (!list.length) { return; }
    current = Math.max(0, Math.min(list.length - 1, index));
    list.forEach(function (row) { row.classList.remove("current"); });
    list[current].classList.add("current");
    var link = list[current].querySelector("a");
    if (link) { link.focus(); }
  };
  document.addEventListener("keydown", function (event) {
    if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) { return; }
    var key = event.key.toLowerCase();
    var shortcut = document.querySelector("[data-key='" + key + "']");
    if (shortcut) {
      event.preventDefault();
      if (shortcut.tagName === "TEXTAREA" || shortcut.tagName === "INPUT") { shortcut.focus(); } else { shortcut.click(); }
      return;
    }
    if (!document.getElementById("queue")) { return; }
    if (key === "j") { event.preventDefault(); focusRow(current + 1); }
    if (key === "k") { event.preventDefault(); focusRow(current - 1); }
    if (key === "x" && current >= 0) {
      var box = rows()[current].querySelector("input[name=item]");
      if (box) { event.preventDefault(); box.checked = !box.checked; }
    }
  });
})();
