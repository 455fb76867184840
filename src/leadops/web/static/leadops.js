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

// --- The queue's keyboard: j/k select a row, 1-9 press that row's buttons, ? lists the keys. ---
function queueRows() {
  return Array.from(document.querySelectorAll("table.queue tbody tr[data-lead]"));
}

function selectQueueRow(row) {
  queueRows().forEach((r) => r.classList.remove("selected"));
  if (!row) return;
  row.classList.add("selected");
  row.setAttribute("tabindex", "-1");
  row.setAttribute("aria-selected", "true");
  row.focus();
  document.body.dataset.queueSelected = row.id;
}

document.addEventListener("keydown", (event) => {
  const table = document.querySelector("table.queue[data-keys]");
  if (!table || event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
  const dialog = document.getElementById("queue-keys");
  if (event.key === "?") {
    event.preventDefault();
    if (dialog && !dialog.open) dialog.showModal();
    return;
  }
  if (dialog && dialog.open) return;
  const rows = queueRows();
  const current = rows.findIndex((r) => r.classList.contains("selected"));
  if (event.key === "j" || event.key === "k") {
    event.preventDefault();
    const step = event.key === "j" ? 1 : -1;
    const next = current < 0 ? 0 : Math.min(rows.length - 1, Math.max(0, current + step));
    selectQueueRow(rows[next]);
    return;
  }
  if (/^[1-9]$/.test(event.key) && current >= 0) {
    const buttons = rows[current].querySelectorAll(".actions button[type=submit]");
    const button = buttons[Number(event.key) - 1];
    if (button) {
      event.preventDefault();
      button.click();
    }
  }
});

// A row logged from the keyboard is swapped by HTMX: keep it selected.
document.addEventListener("htmx:afterSwap", () => {
  const id = document.body.dataset.queueSelected;
  const row = id && document.getElementById(id);
  if (row && !row.classList.contains("selected")) selectQueueRow(row);
});

document.addEventListener("click", (event) => {
  if (event.target.closest("[data-close-dialog]")) event.target.closest("dialog").close();
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
