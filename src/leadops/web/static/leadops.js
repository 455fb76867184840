// leadops: HTMX settings, the report charts (ECharts, from this package's own static files) and
// the pages' small behaviours. The Content-Security-Policy allows no inline script and no event
// handler attribute: pages mark elements with data-* attributes and this file does the rest.
document.addEventListener("DOMContentLoaded", () => {
  if (window.htmx) {
    // Show the server's message for refused changes (4xx) in place, instead of ignoring the answer.
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "4..", swap: true, error: false },
      { code: "...", swap: false, error: true },
    ];
  }
  drawCharts(document);
  // <select data-submit-on-change>: choosing an option submits its form (the team board's team).
  document.body.addEventListener("change", (event) => {
    const select = event.target.closest("select[data-submit-on-change]");
    if (select && select.form) select.form.requestSubmit();
  });
  document.body.addEventListener("click", (event) => {
    // <a data-back>: back to the page before (the error page's "Go back"), else where it points.
    if (event.target.closest("a[data-back]") && window.history.length > 1) {
      event.preventDefault();
      window.history.back();
      return;
    }
    // A rule error's "line N" link puts the caret on that line of the editor.
    const link = event.target.closest(".line-link");
    if (!link) return;
    event.preventDefault();
    const area = document.getElementById("document");
    const line = Number(link.dataset.line);
    const lines = area.value.split("\n");
    const start = lines.slice(0, line - 1).join("\n").length + (line > 1 ? 1 : 0);
    area.focus();
    area.setSelectionRange(start, start + (lines[line - 1] || "").length);
    area.scrollTop = (line - 5) * parseFloat(getComputedStyle(area).lineHeight || "18");
  });
});

function drawCharts(root) {
  if (!window.echarts) return;
  root.querySelectorAll("[data-chart]").forEach((el) => {
    const option = JSON.parse(document.getElementById(el.dataset.chart).textContent);
    // Tooltips drawn inside the chart, not as HTML: ECharts' HTML tooltips carry style
    // attributes, which the Content-Security-Policy (style-src 'self') refuses.
    if (option.tooltip) option.tooltip.renderMode = "richText";
    const chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption(option);
    window.addEventListener("resize", () => chart.resize());
  });
}

// --- The header's search box: "/" goes to it (not while typing in another field). -----------
function isTyping(target) {
  return Boolean(
    target && target.closest && target.closest("input, textarea, select, [contenteditable='true']"),
  );
}

document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  if (isTyping(event.target)) return;
  const box = document.querySelector("[data-search-box]");
  if (!box) return;
  event.preventDefault();
  box.focus();
  box.select();
});
