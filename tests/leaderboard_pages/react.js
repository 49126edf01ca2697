// A stand-in for the Open LLM Leaderboard's React front end: one request to
// /api/leaderboard/formatted, then a table virtualised like
// @tanstack/react-virtual (45 px rows, 15 rows of overscan, padding rows).
(function () {
  "use strict";
  const ROW = 45, OVERSCAN = 15;
  const columns = [
    ["model.name", "Model"], ["model.average_score", "Average"],
    ["evaluations.ifeval.normalized_score", "IFEval"], ["evaluations.bbh.normalized_score", "BBH"],
    ["evaluations.math.normalized_score", "MATH"], ["evaluations.gpqa.normalized_score", "GPQA"],
    ["evaluations.musr.normalized_score", "MUSR"], ["evaluations.mmlu_pro.normalized_score", "MMLU-PRO"],
    ["model.precision", "Precision"], ["metadata.params_billions", "Params (B)"],
  ];
  const get = (row, path) => path.split(".").reduce((o, k) => o == null ? o : o[k], row);
  const esc = (s) => String(s ?? "").replace(/&/g, "&amp;").replace(/</g, "&lt;");

  async function main() {
    const rows = await (await fetch("api/leaderboard/formatted")).json();
    const root = document.getElementById("root");
    root.innerHTML = `<div id="container"><table><thead><tr>${columns.map(([k, h]) =>
      `<th data-column="${k}">${esc(h)}</th>`).join("")}</tr></thead><tbody></tbody></table></div>`;
    const container = document.getElementById("container");
    const tbody = root.querySelector("tbody");
    const draw = () => {
      const first = Math.max(0, Math.floor(container.scrollTop / ROW) - OVERSCAN);
      const last = Math.min(rows.length, Math.ceil((container.scrollTop + container.clientHeight) / ROW) + OVERSCAN);
      const pad = (n) => n > 0 ? `<tr><td colspan="${columns.length}" style="height:${n * ROW}px"></td></tr>` : "";
      let html = pad(first);
      for (let i = first; i < last; i++) {
        const r = rows[i];
        html += "<tr>" + columns.map(([k]) => k === "model.name"
          ? `<td><a href="https://huggingface.co/${esc(r.model.name)}">${esc(r.model.name)}</a></td>`
          : `<td>${esc(get(r, k))}</td>`).join("") + "</tr>";
      }
      tbody.innerHTML = html + pad(rows.length - last);
    };
    container.addEventListener("scroll", () => requestAnimationFrame(draw));
    draw();
  }
  main();
})();
