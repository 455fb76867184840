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

// The lead list's selection: <input data-select-page> ticks (or clears) every lead of the page.
document.addEventListener("change", (event) => {
  const all = event.target.closest("input[data-select-page]");
  if (!all || !all.form) return;
  all.form.querySelectorAll('input[type="checkbox"][name="lead"]').forEach((box) => {
    box.checked = all.checked;
  });
});

// A session that ended while the page was open: the server answers an action with HX-Redirect to
// /signin?next=<this page>. The action (method, URL, form values; not the old CSRF token) is kept
// in sessionStorage, and once signed in again on the same page it is sent once with the new token.
(() => {
  const KEY = "leadops.pendingAction";
  const here = () => window.location.pathname + window.location.search;
  document.addEventListener("htmx:beforeOnLoad", (event) => {
    const xhr = event.detail.xhr;
    const to = xhr && xhr.getResponseHeader("HX-Redirect");
    const config = event.detail.requestConfig;
    if (!to || !to.startsWith("/signin") || !config || config.verb === "get") return;
    const values = [];
    if (config.formData) {
      for (const [name, value] of config.formData.entries()) {
        if (name !== "csrf_token" && typeof value === "string") values.push([name, value]);
      }
    }
    const pending = { method: config.verb, url: config.path, values, page: here() };
    try {
      window.sessionStorage.setItem(KEY, JSON.stringify(pending));
    } catch (_) {
      // No storage (a private window's quota): the action is not kept.
    }
  });
  document.addEventListener("DOMContentLoaded", () => {
    let pending = null;
    try {
      pending = JSON.parse(window.sessionStorage.getItem(KEY) || "null");
    } catch (_) {
      pending = null;
    }
    if (!pending || pending.page !== here() || !window.htmx) return;
    if (!document.body.hasAttribute("hx-headers")) return; // not signed in yet: keep it
    window.sessionStorage.removeItem(KEY); // before sending: at most once
    const values = {};
    pending.values.forEach(([name, value]) => {
      values[name] = value;
    });
    const source = Array.from(document.querySelectorAll(`[hx-${pending.method}]`)).find(
      (el) => el.getAttribute(`hx-${pending.method}`) === pending.url,
    );
    const options = source ? { source, values } : { values, target: "#messages" };
    htmx.ajax(pending.method.toUpperCase(), pending.url, options);
  });
})();
