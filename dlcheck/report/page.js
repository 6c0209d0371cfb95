(function () {
  "use strict";
  document.documentElement.className += " js";
  var rows = Array.prototype.slice.call(document.querySelectorAll("#hosts tbody tr.host"));
  var q = document.getElementById("q"), fs = document.getElementById("fstatus");
  var fg = document.getElementById("fgroup"), info = document.getElementById("pageinfo");
  var prev = document.getElementById("prev"), next = document.getElementById("next");
  var size = PAGE_SIZE, page = 0;
  if (rows.length <= size) { prev.parentNode.style.display = "none"; }
  function keep(r) {
    var text = q.value.trim().toLowerCase();
    return (!text || r.getAttribute("data-host").indexOf(text) !== -1) &&
      (!fs.value || r.getAttribute("data-status") === fs.value) &&
      (!fg || !fg.value || r.getAttribute("data-group") === fg.value);
  }
  function draw() {
    var shown = rows.filter(keep);
    var pages = Math.max(1, Math.ceil(shown.length / size));
    page = Math.min(page, pages - 1);
    rows.forEach(function (r) { r.classList.add("off"); });
    shown.slice(page * size, (page + 1) * size).forEach(function (r) {
      r.classList.remove("off");
    });
    info.textContent = shown.length + " of " + rows.length + " hosts, page " + (page + 1) +
      " of " + pages;
    if (rows.length <= size) { info.textContent = ""; }
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
  }
  function reset() { page = 0; draw(); }
  q.addEventListener("input", reset);
  fs.addEventListener("change", reset);
  if (fg) { fg.addEventListener("change", reset); }
  prev.addEventListener("click", function () { page -= 1; draw(); });
  next.addEventListener("click", function () { page += 1; draw(); });
  window.addEventListener("beforeprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) {
      d.open = true;
    });
  });
  draw();
})();
