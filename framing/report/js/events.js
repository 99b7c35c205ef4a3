  // ---------- events: which documents tell the same story; an event's passages per group, by framing ----------
  const EV = data.events;
  function setupEvents() {
    if (!EV || !EV.events.length) return;
    document.getElementById("events-panel").classList.remove("hidden");
    const how = EV.method === "field" ? `given by the metadata column ${EV.settings.field}`
      : EV.method === "found" ? `found from the documents' content (average cosine ≥ ${EV.settings.threshold}` +
        (EV.settings.window_days !== null ? `, at most ${EV.settings.window_days} days apart` : "") + ")"
      : "one event";
    document.getElementById("events-meta").textContent =
      `${EV.events.length} events, ${how}. Click an event to read each group's passages side by side, by framing.`;
    const W = EV.within;
    if (W) {
      const t = W.test;
      const parts = W.agenda_framing.map((p) => `${p.group_a} vs ${p.group_b}: difference ${interval(p.total)} = ` +
        `agenda (which events) ${interval(p.agenda)} and framing (how they tell shared events) ${interval(p.framing)}`);
      document.getElementById("events-within").textContent =
        `Within events (${t.events} told by more than one group): does the framing depend on the group, given the ` +
        `event? permutation p = ${t.p_value === null ? "n/a" : t.p_value} (${t.permutations} shuffles of ` +
        `${t.shuffled}). ${parts.join("; ")}.`;
    }
    const body = document.querySelector("#events-table tbody");
    for (const e of EV.events) {
      const dates = e.first === null ? "undated" : e.first === e.last ? e.first : `${e.first} – ${e.last}`;
      body.append(el("tr", { "data-event": e.id },
        el("td", {}, el("button", { type: "button", class: "link-button event-link", onclick: () => listEvent(e.id) },
          `${e.id}: ${e.label}`)),
        el("td", {}, dates), el("td", {}, e.sources.join(", ")), el("td", {}, String(e.documents)),
        el("td", {}, String(e.size))));
    }
  }
  function listEvent(eventId) { // each group's distinct passages of the event, by framing, side by side
    const view = document.getElementById("event-view");
    view.replaceChildren();
    const e = EV.events.find((x) => x.id === eventId);
    view.append(el("h3", {}, `${e.id}: ${e.label}`));
    const groups = EV.groups.length ? EV.groups.map((g, k) => [g, k]) : [["all units", -1]];
    const byGroup = groups.map(() => new Map());
    for (let i = 0; i < n; i++) {
      if (U.dup_of[i] >= 0 || EV.unit_event[i] !== eventId) continue;
      const k = EV.groups.length ? EV.unit_group[i] : 0;
      if (k < 0) continue;
      const f = U.framing[i];
      if (!byGroup[k].has(f)) byGroup[k].set(f, []);
      byGroup[k].get(f).push(i);
    }
    const all = byGroup.flatMap((m) => [...m.values()].flat());
    const columns = el("div", { class: "event-columns" });
    view.append(columns);
    withTexts(all, [], () => groups.forEach(([name], k) => {
      const column = el("div", { class: "event-group", "data-group": name }, el("h4", {}, name));
      const framings = [...byGroup[k].keys()].sort((a, b) => (a === -1) - (b === -1) || a - b);
      if (!framings.length) column.append(el("p", { class: "meta" }, "no passage in this event"));
      for (const f of framings) {
        column.append(el("p", { class: "meta" }, `${framingName(f)} · ${byGroup[k].get(f).length}`));
        column.append(el("ol", {}, ...byGroup[k].get(f).map((i) => el("li", {}, el("button", { type: "button",
          class: "link-button event-passage", "data-unit": unitId(i), onclick: () => showPassage(i) }, unitText(i))))));
      }
      columns.append(column);
    }));
    return all.length;
  }
