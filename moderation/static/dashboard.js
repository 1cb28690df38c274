// Dashboard keyboard shortcuts and in-place actions. Without this script every button still works as a form.
(function () {
  "use strict";

  const list = document.querySelector(".comments");
  let current = -1;

  function cards() { return Array.from(document.querySelectorAll(".comments .comment:not(.done)")); }

  function focusCard(index) {
    const all = cards();
    if (!all.length) { current = -1; return; }
    current = Math.max(0, Math.min(index, all.length - 1));
    all.forEach((card, i) => card.classList.toggle("current", i === current));
    all[current].focus({ preventScroll: true });
    all[current].scrollIntoView({ block: "nearest" });
  }

  function currentCard() { const all = cards(); return current >= 0 ? all[current] : null; }

  function toast(message) {
    const box = document.getElementById("toast");
    if (!box) { return; }
    box.textContent = message;
    box.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { box.hidden = true; }, 4000);
  }

  async function post(form, extra) {
    const data = new FormData(form);
    Object.entries(extra || {}).forEach(([k, v]) => data.set(k, v));
    // getAttribute, not form.action: the form's buttons named "action" shadow that property.
    const response = await fetch(form.getAttribute("action"), {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", "Accept": "application/json" },
    });
    let body = {};
    try { body = await response.json(); } catch (e) { body = { ok: false, error: response.statusText }; }
    if (!response.ok || !body.ok) { toast(body.error || response.statusText); return null; }
    return body;
  }

  function settle(body) {
    // Decided comments leave the held queue; on other views they stay, showing their new status.
    const inQueue = document.body.classList.contains("queue-page");
    // A decision closes a comment's complaints, and gives a spot check its verdict: it leaves those lists
    // whatever its status.
    const inComplaints = document.body.classList.contains("complaints-page")
      || document.body.classList.contains("spot-checks-page");
    const held = new URLSearchParams(location.search).get("status");
    (body.comments || []).forEach((c) => {
      const card = document.getElementById("c" + c.id);
      if (!card) { return; }
      card.classList.add("done", "now-" + c.status);
      card.querySelector(".select") && (card.querySelector(".select").checked = false);
      if (inComplaints || (inQueue && (!held || held === "held") && c.status !== "held")) { card.remove(); }
    });
    toast(body.message);
    if (!inQueue && !inComplaints) { setTimeout(() => location.reload(), 300); return; }
    updateSelected();
    focusCard(current);
  }

  async function act(card, action, reason) {
    if (!card) { return; }
    const form = card.querySelector(".action-form");
    const body = await post(form, reason ? { action: action, reason: reason } : { action: action });
    if (body) { settle(body); }
  }

  async function undo() {
    const form = document.getElementById("undo-form");
    if (!form) { return; }
    const body = await post(form);
    if (body) {
      toast(body.message);
      if ((body.comments || []).length) { setTimeout(() => location.reload(), 400); }
    }
  }

  function overlay(id, show) {
    const box = document.getElementById(id);
    if (box) { box.hidden = !show; }
    return box;
  }
  function overlayOpen(id) { const box = document.getElementById(id); return box && !box.hidden; }

  function pickReason(index) {
    const buttons = document.querySelectorAll("#reason-picker .pick-reason");
    const button = buttons[index];
    overlay("reason-picker", false);
    if (button) { act(currentCard(), "reject", button.dataset.reason); }
  }

  function updateSelected() {
    const count = document.querySelectorAll(".comments .select:checked").length;
    const label = document.querySelector(".selected-count");
    if (label) { label.textContent = count ? String(count) : ""; }
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    const tag = (event.target.tagName || "").toLowerCase();
    if (["input", "select", "textarea"].includes(tag) && event.key !== "Escape") { return; }
    if (overlayOpen("reason-picker")) {
      if (/^[1-9]$/.test(event.key)) { event.preventDefault(); pickReason(Number(event.key) - 1); }
      if (event.key === "Escape") { overlay("reason-picker", false); }
      return;
    }
    if (event.key === "Escape") { overlay("help", false); return; }
    if (!list) { return; }
    const card = currentCard();
    switch (event.key) {
      case "j": focusCard(current + 1); break;
      case "k": focusCard(current - 1); break;
      case "a": act(card, "approve"); break;
      case "s": act(card, "spam"); break;
      case "r": if (card) { overlay("reason-picker", true); } break;
      case "u": undo(); break;
      case "x": if (card && card.querySelector(".select")) { const box = card.querySelector(".select"); box.checked = !box.checked; updateSelected(); } break;
      case "o": case "Enter": if (card && card.querySelector("a.open")) { location.href = card.querySelector("a.open").href; } break;
      case "?": overlay("help", !overlayOpen("help")); break;
      default: return;
    }
    event.preventDefault();
  });

  document.addEventListener("click", (event) => {
    const target = event.target;
    if (target.closest(".help-toggle")) { overlay("help", true); return; }
    if (target.classList.contains("overlay")) { target.hidden = true; return; }
    const pick = target.closest(".pick-reason");
    if (pick) { overlay("reason-picker", false); act(currentCard(), "reject", pick.dataset.reason); return; }
    const card = target.closest(".comment");
    if (card) { const i = cards().indexOf(card); if (i >= 0) { current = i; cards().forEach((c, n) => c.classList.toggle("current", n === i)); } }
  });

  // Buttons inside a card act in place; a reject without a reason asks for one.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.classList.contains("action-form")) { return; }
    const button = event.submitter;
    if (!button) { return; }
    event.preventDefault();
    const card = form.closest(".comment");
    const action = button.value;
    const reason = form.querySelector("select[name=reason]");
    if (action === "reject" && reason && !reason.value) {
      current = cards().indexOf(card);
      overlay("reason-picker", true);
      return;
    }
    act(card, action, action === "reject" && reason ? reason.value : null);
  });

  document.addEventListener("change", (event) => {
    if (event.target.classList.contains("select-all")) {
      document.querySelectorAll(".comments .select").forEach((box) => { box.checked = event.target.checked; });
    }
    updateSelected();
  });

  if (list && cards().length) { focusCard(0); }
})();
