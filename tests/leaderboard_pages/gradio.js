// A stand-in for Gradio 4's Dataframe: reads window.gradio_config, fills the
// table from the config or, when the config holds no data, from the app
// endpoint its load event names; renders Gradio's hidden measuring table and a
// virtual table showing only the ~15 rows in its 500 px viewport.
(function () {
  "use strict";
  const ROW = 33, VIEW = 500, SHOWN = Math.ceil(VIEW / ROW);
  const config = window.gradio_config;
  const app = document.getElementById("app");

  const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const cellHtml = (v) => v === null || v === undefined ? "" :
    (typeof v === "string" && /<a\b/.test(v) ? v : esc(v));

  async function callEndpoint(dep) {
    const values = Object.fromEntries(config.components.map(c => [c.id, c.props.value]));
    const data = dep.inputs.map(i => values[i]);
    const base = config.root + (config.api_prefix || "");
    const r = await fetch(`${base}/call/${dep.api_name}`, {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({data})});
    const {event_id} = await r.json();
    const text = await (await fetch(`${base}/call/${dep.api_name}/${event_id}`)).text();
    const line = text.split("\n").find(l => l.startsWith("data:"));
    return JSON.parse(line.slice(5));
  }

  function render(headers, data) {
    const n = headers.length;
    app.innerHTML = "";
    const wrap = document.createElement("div");
    wrap.className = "table-wrap";
    wrap.setAttribute("role", "grid");
    // the measuring table: one row of each column's widest value, not a real row
    const widest = headers.map((_, j) => data.reduce(
      (w, row) => String(row[j] ?? "").length > String(w).length ? (row[j] ?? "") : w, ""));
    const measure = document.createElement("table");
    measure.className = "measure";
    measure.innerHTML = `<thead><tr>${headers.map(h => `<th>${esc(h)}</th>`).join("")}</tr></thead>` +
      `<tbody><tr>${widest.map(v => `<td><div class="cell-wrap">${cellHtml(v)}</div></td>`).join("")}</tr></tbody>`;
    wrap.appendChild(measure);
    const viewport = document.createElement("svelte-virtual-table-viewport");
    const inner = document.createElement("div");
    const table = document.createElement("table");
    table.className = "table";
    table.innerHTML = `<thead class="thead"><tr>${headers.map(h =>
      `<th><div class="cell-wrap"><span>${esc(h)}</span><span class="sort">⇅</span></div></th>`).join("")}</tr></thead><tbody class="tbody"></tbody>`;
    const tbody = table.querySelector("tbody");
    inner.appendChild(table);
    viewport.appendChild(inner);
    wrap.appendChild(viewport);
    app.appendChild(wrap);
    let pending = false;
    const draw = () => {
      pending = false;
      const start = Math.max(0, Math.floor(table.scrollTop / ROW) - 1);
      const end = Math.min(data.length, start + SHOWN + 1);
      const pad = (rows) => rows > 0 ? `<tr style="height:${rows * ROW}px"><td colspan="${n}"></td></tr>` : "";
      let html = pad(start);
      for (let i = start; i < end; i++) {
        html += `<tr class="${i % 2 ? "row_odd" : ""}">` +
          data[i].map(v => `<td><div class="cell-wrap"><span>${cellHtml(v)}</span></div></td>`).join("") + "</tr>";
      }
      tbody.innerHTML = html + pad(data.length - end);
    };
    // Svelte-like: the rows change on the frame after the scroll
    table.addEventListener("scroll", () => {
      if (!pending) { pending = true; requestAnimationFrame(draw); }
    });
    draw();
  }

  async function main() {
    const tables = config.components.filter(c => c.type === "dataframe" && c.props.elem_id);
    const shown = tables[tables.length - 1];
    let {headers, data} = shown.props.value;
    if (!data.length) {
      const dep = config.dependencies.find(d => d.outputs.includes(shown.id) &&
        d.targets.some(t => t[1] === "load"));
      const outputs = await callEndpoint(dep);
      const value = outputs[dep.outputs.indexOf(shown.id)];
      ({headers, data} = value.value || value);
    } else {
      // the visible table shows every row once the page has loaded
      const full = config.components.find(c => c.type === "dataframe" && c.props.visible === false);
      if (full) ({headers, data} = full.props.value);
    }
    render(headers, data);
  }
  main();
})();
