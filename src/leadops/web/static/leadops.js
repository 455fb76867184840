// leadops: HTMX settings and the report charts (ECharts, from this package's own static files).
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
  // A rule error's "line N" link puts the caret on that line of the editor.
  document.body.addEventListener("click", (event) => {
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
    const chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption(option);
    window.addEventListener("resize", () => chart.resize());
  });
}
