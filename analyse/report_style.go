package analyse

// reportCSS is the report's style sheet: readable type, light colours,
// tables that scroll sideways on a narrow window, and a flow diagram that
// scrolls when wide.
const reportCSS = `
:root { color-scheme: light; --ink: #1d2533; --muted: #5b6573; --line: #d9dee6; --accent: #1f4e96; --band: #f5f7fa; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Helvetica, Arial, sans-serif; }
.r-top { background: #f0f4fa; border-bottom: 1px solid var(--line); padding: 20px 32px 12px; }
h1 { font-size: 22px; margin: 0 0 12px; font-weight: 600; }
h2 { font-size: 19px; margin: 36px 0 6px; padding-bottom: 4px; border-bottom: 2px solid var(--accent); font-weight: 600; }
h3 { font-size: 15px; margin: 22px 0 6px; font-weight: 600; }
main { padding: 0 32px 48px; max-width: 1400px; }
.r-facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 18px; margin: 0 0 12px; font-size: 14px; }
.r-facts dt { color: var(--muted); }
.r-facts dd { margin: 0; font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 13px; overflow-wrap: anywhere; }
.r-toc ol { list-style: none; display: flex; flex-wrap: wrap; gap: 6px 8px; margin: 0; padding: 0; }
.r-toc a { display: inline-block; padding: 3px 12px; border: 1px solid var(--line); border-radius: 14px; background: #fff; color: var(--accent); text-decoration: none; font-size: 14px; }
.r-toc a:hover { background: var(--accent); color: #fff; }
.r-intro { color: var(--muted); margin: 4px 0 10px; max-width: 70em; }
.r-empty { color: var(--muted); font-style: italic; }
.r-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(480px, 1fr)); gap: 12px; }
.r-chart { margin: 0 0 8px; border: 1px solid var(--line); border-radius: 6px; padding: 8px; background: #fff; }
.r-chart figcaption { font-size: 13px; margin: 0 4px 4px; }
.r-chart figcaption span { color: var(--muted); }
.r-chart svg { display: block; width: 100%; height: auto; max-width: 980px; }
.r-scroll { overflow-x: auto; max-height: 34em; overflow-y: auto; border: 1px solid var(--line); border-radius: 6px; }
.r-table { border-collapse: collapse; font-size: 13px; width: 100%; }
.r-table th, .r-table td { padding: 3px 10px; border-bottom: 1px solid #edf0f4; white-space: nowrap; text-align: left; }
.r-table th { position: sticky; top: 0; background: #e9eff8; cursor: pointer; user-select: none; font-weight: 600; }
.r-table th:hover { background: #dbe4f2; }
.r-table th.r-asc::after { content: " \25B2"; font-size: 10px; }
.r-table th.r-desc::after { content: " \25BC"; font-size: 10px; }
.r-table tbody tr:nth-child(even) { background: var(--band); }
.r-table tbody tr:hover { background: #fff6d6; }
.r-num { text-align: right !important; font-variant-numeric: tabular-nums; }
.r-flow { overflow: auto; max-height: 80vh; border: 1px solid var(--line); border-radius: 6px; }
.r-flow svg { display: block; }
`

// reportJS sorts a table by the column whose header is clicked: numbers
// and times by their value (data-v), text as text; a second click reverses.
const reportJS = `
(function () {
  function key(td) {
    if (!td) return "";
    var v = td.getAttribute("data-v");
    return v === null ? td.textContent : v;
  }
  function compare(a, b, numeric) {
    if (numeric) {
      var x = a === "" ? -Infinity : Number(a), y = b === "" ? -Infinity : Number(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    return a.localeCompare(b);
  }
  document.querySelectorAll("table.r-table").forEach(function (table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      th.addEventListener("click", function () {
        var desc = th.classList.contains("r-asc");
        Array.prototype.forEach.call(heads, function (h) { h.classList.remove("r-asc", "r-desc"); });
        th.classList.add(desc ? "r-desc" : "r-asc");
        var numeric = th.classList.contains("r-num");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (r1, r2) {
          var c = compare(key(r1.cells[col]), key(r2.cells[col]), numeric);
          return desc ? -c : c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
})();
`
