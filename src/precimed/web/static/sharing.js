// Governed sharing pages: every action through /api/v1 (precimed.api), which checks,
// refuses and audits; the pages only collect the fields and show the answer.
"use strict";
const precimedSharing = (() => {
  const names = (text) => text.split(/[,，\s]+/).map(s => s.trim()).filter(Boolean);
  const value = (root, selector) => { const el = root.querySelector(selector); return el ? el.value.trim() : ""; };
  const checked = (id) => document.getElementById(id).checked;
  const field = (id) => document.getElementById(id).value.trim();

  // -- the catalogue: an entry's conditions (one DUO term at a time) and its details ----
  function termItem(condition, words) {
    const [code, ...rest] = condition.split(":");
    const value = rest.join(":");
    const term = words.terms[code];
    const li = document.createElement("li");
    li.className = "edit-term";
    li.dataset.condition = condition;
    li.dataset.code = code;
    const b = document.createElement("b"); b.textContent = code;
    const id = document.createElement("code"); id.className = "small"; id.textContent = term.id;
    const button = document.createElement("button");
    button.type = "button"; button.className = "remove-term"; button.textContent = words.remove;
    button.setAttribute("aria-label", words.remove_term.replace("{code}", code));
    li.append(b, value ? ":" + value : "", " ", id, " " + term.name + " ", button);
    return li;
  }

  function catalogue(words) {
    const say = (el, text, bad) => { el.textContent = text; el.classList.toggle("error", !!bad); el.classList.toggle("status-ok", !bad); };
    document.querySelectorAll("form.conditions-form").forEach(form => {
      const list = form.querySelector(".edit-terms");
      const select = form.querySelector(".term-code");
      const input = form.querySelector(".term-value");
      const status = form.querySelector(".conditions-status");
      const takesValue = () => words.terms[select.value].value !== "";
      const fit = () => { input.disabled = !takesValue(); if (input.disabled) input.value = ""; };
      select.addEventListener("change", fit);
      fit();
      list.addEventListener("click", (event) => {
        if (event.target.classList.contains("remove-term")) event.target.closest("li").remove();
      });
      form.querySelector(".add-term").addEventListener("click", () => {
        const code = select.value;
        const value = input.value.trim();
        if (takesValue() && !value) { say(status, words.value_needed, true); input.focus(); return; }
        const kind = words.terms[code].kind;
        // one permission per dataset, one value per modifier: a new one replaces the old
        list.querySelectorAll("li.edit-term").forEach(li => {
          if (li.dataset.code === code || (kind === "permission" && words.terms[li.dataset.code].kind === "permission")) li.remove();
        });
        list.appendChild(termItem(value ? code + ":" + value : code, words));
        input.value = ""; say(status, "");
      });
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const entry = form.closest("section.entry").dataset.id;
        const conditions = [...list.querySelectorAll("li.edit-term")].map(li => li.dataset.condition);
        const reason = value(form, ".conditions-reason");
        if (!reason) { say(status, words.reason_needed, true); form.querySelector(".conditions-reason").focus(); return; }
        say(status, "");
        if (!await precimed.confirmAction(words.confirm.replace("{conditions}", conditions.join(", ")))) return;
        try {
          await precimed.api("PUT", "/api/v1/catalogue/" + encodeURIComponent(entry) + "/conditions", {conditions, reason});
          say(status, words.saved);
          location.reload();
        } catch (e) { say(status, precimed.problem(e, words.fields), true); }
      });
    });
    document.querySelectorAll("form.entry-form").forEach(form => {
      const status = form.querySelector(".entry-status");
      const noEmbargo = form.querySelector(".e-no-embargo");
      const embargo = form.querySelector(".e-embargo");
      embargo.addEventListener("input", () => { if (embargo.value) noEmbargo.checked = false; });
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const entry = form.closest("section.entry").dataset.id;
        const body = {access_tier: value(form, ".e-tier"), titles: {
          title_zh: value(form, ".e-title-zh"), title_en: value(form, ".e-title-en"),
          description_zh: value(form, ".e-description-zh"), description_en: value(form, ".e-description-en")}};
        if (noEmbargo.checked) body.clear_embargo = true;
        else if (embargo.value) body.embargo_until = embargo.value;
        if (form.querySelector(".e-kind")) body.kind = value(form, ".e-kind");
        try {
          await precimed.api("PATCH", "/api/v1/catalogue/" + encodeURIComponent(entry), body);
          say(status, words.saved);
          location.reload();
        } catch (e) { say(status, precimed.problem(e, words.fields), true); }
      });
    });
  }

  // -- the request form -----------------------------------------------------------------
  function collect() {
    const members = [...document.querySelectorAll("#members tr.member")].map(tr => ({
      name: value(tr, ".m-name"), username: value(tr, ".m-username"),
      institution: value(tr, ".m-institution"), foreign: tr.querySelector(".m-foreign").checked,
    })).filter(m => m.name || m.username);
    return {
      title_zh: field("title_zh"), title_en: field("title_en"),
      summary_zh: field("summary_zh"), summary_en: field("summary_en"),
      institution: field("institution"),
      intended_use: {purpose: field("purpose"), disease: field("disease"), commercial: checked("commercial"),
                     for_profit: checked("for_profit"), methods: checked("methods"), ancestry: checked("ancestry")},
      datasets: [...document.querySelectorAll("input[name=entry]:checked")].map(x => x.value),
      variables: names(field("variables")), cohort_id: field("cohort_id") || null,
      ethics_number: field("ethics_number"), foreign_party: checked("foreign_party"),
      foreign_sponsor: checked("foreign_sponsor"), foreign_detail: field("foreign_detail"),
      duration_months: parseInt(field("duration_months"), 10) || 0, members,
      hgr_filing_number: field("hgr_filing_number"), hgr_filing_date: field("hgr_filing_date") || null,
      hgr_backup_receipt: field("hgr_backup_receipt"),
    };
  }

  // The API names the field at fault ("ethics_number", "datasets[0]",
  // "members[1].username"): show its label in the page's language and mark it.
  function showError(e, words) {
    const where = (e.detail && e.detail.where) || "";
    const key = where.replace(/\[\d+\]/g, "");
    const label = words.fields[key] || words.fields[key.split(".")[0]] || "";
    document.querySelectorAll(".invalid").forEach(x => x.classList.remove("invalid"));
    const box = document.getElementById("request-error");
    document.getElementById("request-error-field").textContent =
      label ? words.fix_field.replace("{field}", label) : words.refused;
    document.getElementById("request-error-detail").textContent = e.message;
    box.hidden = false;
    const target = document.querySelector(`[data-field="${CSS.escape(key)}"]`) ||
                   document.querySelector(`[data-field="${CSS.escape(key.split(".")[0])}"]`);
    if (target) { target.classList.add("invalid"); target.scrollIntoView({block: "center"}); }
  }

  function form(words) {
    const formEl = document.getElementById("request-form");
    const status = document.getElementById("request-status");
    const rows = document.getElementById("members");
    const addMember = () => {
      rows.appendChild(document.getElementById("member-row").content.cloneNode(true));
    };
    if (!rows.querySelector("tr.member")) addMember();
    document.getElementById("add-member").addEventListener("click", addMember);
    rows.addEventListener("click", (event) => {
      if (event.target.classList.contains("m-remove")) event.target.closest("tr").remove();
    });

    async function save(andSubmit) {
      document.getElementById("request-error").hidden = true;
      status.textContent = words.saving;
      let id = formEl.getAttribute("data-draft");
      try {
        const body = collect();
        const saved = id ? await precimed.api("PUT", "/api/v1/sharing/requests/" + id, body)
                         : await precimed.api("POST", "/api/v1/sharing/requests", body);
        id = saved.id;
        formEl.setAttribute("data-draft", id);
        history.replaceState(null, "", "/requests/new?draft=" + encodeURIComponent(id));
        const file = document.getElementById("ethics_document").files[0];
        if (file) {
          const upload = new FormData();
          upload.append("document", file);
          await precimed.api("POST", "/api/v1/sharing/requests/" + id + "/ethics", upload, true);
          document.getElementById("ethics_document").value = "";
        }
        if (andSubmit) {
          await precimed.api("POST", "/api/v1/sharing/requests/" + id + "/submit");
          location.href = "/requests";
          return;
        }
        status.textContent = words.saved.replace("{id}", id);
      } catch (e) {
        status.textContent = "";
        showError(e, words);
      }
    }
    document.getElementById("save-draft").addEventListener("click", () => save(false));
    formEl.addEventListener("submit", (event) => { event.preventDefault(); save(true); });
  }

  // -- my requests ------------------------------------------------------------------------
  function mine(words) {
    document.querySelectorAll("#requests button.withdraw").forEach(button => {
      button.addEventListener("click", async () => {
        const tr = button.closest("tr");
        const box = tr.querySelector(".row-error");
        box.textContent = "";
        if (!await precimed.confirmAction(words.confirm)) return;
        try {
          await precimed.api("POST", "/api/v1/sharing/requests/" + tr.dataset.id + "/withdraw",
                             {reason: value(tr, ".withdraw-reason")});
          location.reload();
        } catch (e) { box.textContent = precimed.problem(e, words.fields); }
      });
    });
  }

  // -- the committee's queue ------------------------------------------------------------------
  function review(words) {
    const act = (selector, build) => {
      document.querySelectorAll(selector).forEach(formEl => {
        formEl.addEventListener("submit", async (event) => {
          event.preventDefault();
          const card = formEl.closest("section.request, section.active-project");
          const box = card.querySelector(".review-error");
          box.hidden = true;
          const built = await build(formEl, card, box);
          if (!built) return;
          const [path, body] = built;
          try {
            await precimed.api("POST", "/api/v1/sharing/review/" + card.dataset.id + path, body);
            location.reload();
          } catch (e) {
            box.textContent = precimed.problem(e, words.fields);
            box.dataset.detail = e.message;  // the API's own words, for the tests and logs
            box.hidden = false;
          }
        });
      });
    };
    act("form.revoke-form", async (f, card, box) => {
      const reason = value(f, ".revoke-reason");
      if (!reason) { box.textContent = words.revoke_reason_needed; box.hidden = false; return null; }
      const text = words.revoke_confirm.replace("{title}", card.dataset.title).replace("{id}", card.dataset.id);
      if (!await precimed.confirmAction(text)) return null;
      return ["/revoke", {reason}];
    });
    act("form.vote-form", f => ["/votes", {vote: value(f, ".vote-choice"), reason: value(f, ".vote-reason")}]);
    act("form.decision-form", f => ["/decision", {
      decision: value(f, ".d-decision"), reason: value(f, ".d-reason"), date_handling: value(f, ".d-dates"),
      coarsen_allowed: f.querySelector(".d-coarsen").checked, conditions: names(value(f, ".d-conditions")),
      expires_on: value(f, ".d-expires") || null}]);
    act("form.hgr-form", f => {
      const body = {};
      for (const [cls, key] of [[".h-filing-number", "filing_number"], [".h-filing-date", "filing_date"],
                                [".h-backup", "backup_receipt"], [".h-review-ref", "security_review_ref"],
                                [".h-review-date", "security_review_date"]]) {
        const v = value(f, cls);
        if (v) body[key] = v;
      }
      return ["/hgr", body];
    });
  }

  return {catalogue, form, mine, review};
})();
