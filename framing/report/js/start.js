  // ---------- start: draw every panel, then listen to the map ----------
  setupEvents();
  setupLabelling();
  drawTree();
  window.framingReport = { showPassage, showDocument, highlightFraming, search, listCell, pointPixel, unitText, data,
    labelsCsv, listBin, timePointPixel, listNode, listEvent };
  Promise.all([draw().then(() => performance.mark("framing:map")), drawHeatmap(), drawTime(), drawContrast(),
    cardsDrawn]).then(() => {
    mapDiv.on("plotly_click", (ev) => showPassage(ev.points[0].customdata));
    mapDiv.on("plotly_hover", (ev) => showTooltip(ev.points[0].customdata, ev.event));
    mapDiv.on("plotly_unhover", () => tooltip.classList.add("hidden"));
    performance.mark("framing:ready");
    window.framingReady = true;
  });
