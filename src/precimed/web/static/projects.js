// Project workspace and output review: actions through /api/v1 (precimed.api).
"use strict";
const precimedProjects = (() => {
  const list = (id) => document.getElementById(id).value.split(",").map(s => s.trim()).filter(Boolean);

  function workspace(project, words) {
    const cut = document.getElementById("cut-extract");
    const status = document.getElementById("extract-status");
    cut.addEventListener("click", async () => {
      cut.disabled = true; status.textContent = words.cutting;
      try {
        await precimed.api("POST", "/api/v1/projects/" + project + "/extracts", {dataset: document.getElementById("dataset").value || null});
        location.reload();
      } catch (e) { status.textContent = e.message; cut.disabled = false; }
    });
    const form = document.getElementById("output-form");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const out = document.getElementById("output-status");
      const body = new FormData();
      body.append("kind", document.getElementById("out-kind").value);
      body.append("title", document.getElementById("out-title").value);
      body.append("file", document.getElementById("out-file").files[0]);
      body.append("spec", JSON.stringify({by: list("out-by"), labels: list("out-labels"), counts: list("out-counts"),
                                          statistics: list("out-statistics"), margins: document.getElementById("out-margins").checked}));
      out.textContent = words.submitting;
      try {
        await precimed.api("POST", "/api/v1/projects/" + project + "/outputs", body, true);
        location.reload();
      } catch (e) { out.textContent = e.message; }
    });
  }

  function review(words) {
    document.querySelectorAll("#review button.decide").forEach(button => {
      button.addEventListener("click", async () => {
        const tr = button.closest("tr");
        const reason = tr.querySelector("input.reason").value;
        try {
          const result = await precimed.api("POST", "/api/v1/outputs/" + tr.dataset.id + "/review", {decision: button.dataset.decision, reason});
          tr.querySelector("td.status").textContent = words[result.status] || result.status;
          tr.querySelectorAll("button, input").forEach(x => x.disabled = true);
          tr.classList.add("decided");
        } catch (e) { alert(e.message); }
      });
    });
  }

  return {workspace, review};
})();
