// Map dashboard: every project as a clustered pin, footprints and corridors drawn.
// Everything comes from this platform (basemap, library, data): it works with no internet.
(function () {
  "use strict";

  const lang = document.body.dataset.lang || "zh";
  const labels = JSON.parse(document.getElementById("labels").textContent);
  const statusEl = document.getElementById("status");
  const KIND_COLOURS = ["match", ["get", "kind"],
    "flagship", "#00695c", "livelihood", "#7cb342", /* general */ "#546e7a"];
  // Event severity: a purple scale, so it is never read as a warning level (red … blue).
  const GRADE_COLOURS = ["match", ["get", "severity"],
    "I", "#3f007d", "II", "#6a51a3", "III", "#9e9ac8", /* IV */ "#dadaeb"];
  const EVENT_REFRESH_MS = 3000;

  // Exposed for the browser tests and for curious users in the console.
  const state = (window.allweather = {
    projectsTotal: null, projectsLoaded: 0, sitesTotal: null, sitesLoaded: 0,
    eventsShown: 0, platformNow: null, ready: false, error: null, map: null,
  });

  async function fetchAll(url) {
    // Follows the API's pagination until every feature is in.
    const features = [];
    let page = 1, total = null;
    do {
      const sep = url.includes("?") ? "&" : "?";
      const response = await fetch(`${url}${sep}page=${page}&page_size=5000`);
      if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
      const body = await response.json();
      features.push(...body.features);
      total = body.total;
      page += 1;
    } while (features.length < total && page < 100);
    return { type: "FeatureCollection", features, total };
  }

  function showStatus() {
    const d = statusEl.dataset;
    statusEl.textContent = `${d.loaded} ${state.projectsLoaded} ${d.projects} · ${state.sitesLoaded} ${d.sites}`;
  }

  const map = new maplibregl.Map({
    container: "map",
    center: [40, 10],
    zoom: 1.6,
    attributionControl: false,
    style: {
      version: 8,
      sources: {
        countries: { type: "geojson", data: "/static/basemap/countries.geojson" },
      },
      layers: [
        { id: "sea", type: "background", paint: { "background-color": "#dfe9f2" } },
        { id: "land", type: "fill", source: "countries", paint: { "fill-color": "#fbfbf8" } },
        { id: "borders", type: "line", source: "countries",
          paint: { "line-color": "#b9c2cc", "line-width": 0.6 } },
      ],
    },
  });
  state.map = map;
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-right");

  function popupHtml(p) {
    const name = lang === "zh" ? (p.name_zh || p.name) : (p.name || p.name_zh);
    const rows = [
      [labels.code, p.code], [labels.kind, labels.kinds[p.kind] || p.kind],
      [labels.sector, p.sector], [labels.status, p.status], [labels.country, p.country],
    ].filter((r) => r[1]);
    const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
    return `<h3>${esc(name)}</h3><dl>${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join("")}</dl>`;
  }

  // Cluster counts as HTML markers: the style has no glyphs (no font server needed offline).
  const countMarkers = new Map();
  function updateClusterCounts() {
    const seen = new Set();
    for (const f of map.querySourceFeatures("projects")) {
      const p = f.properties;
      if (!p.cluster) continue;
      seen.add(p.cluster_id);
      if (!countMarkers.has(p.cluster_id)) {
        const el = document.createElement("div");
        el.className = "cluster-count";
        el.textContent = p.point_count_abbreviated;
        countMarkers.set(p.cluster_id, new maplibregl.Marker({ element: el }).setLngLat(f.geometry.coordinates));
      }
      countMarkers.get(p.cluster_id).addTo(map);
    }
    for (const [id, marker] of countMarkers) if (!seen.has(id)) { marker.remove(); countMarkers.delete(id); }
  }

  function eventPopup(p) {
    const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
    const link = p.url ? `<p><a href="${esc(p.url)}" target="_blank" rel="noopener">${esc(p.source)}</a></p>` : `<p>${esc(p.source)}</p>`;
    return `<h3>${esc(labels.fine_types[p.fine_type] || p.fine_type)} · ${esc(labels.grades[p.severity] || p.severity)}</h3>`
      + `<dl><dt>${esc(p.occurred_at)}</dt><dd>${esc(p.place || p.country || "")}</dd></dl>`
      + (p.title ? `<p>${esc(p.title)}</p>` : "") + link;
  }

  // Events of the last 30 days before the platform clock: during a replay the clock runs fast,
  // so the layer is refreshed every few seconds and old events fall out of the window.
  async function refreshEvents() {
    try {
      const response = await fetch("/api/v1/map/events?days=30&page_size=5000");
      if (!response.ok) throw new Error(`events: HTTP ${response.status}`);
      const body = await response.json();
      map.getSource("events").setData(body);
      state.eventsShown = body.features.length;
      state.platformNow = body.now;
      document.getElementById("clock").textContent = body.now.slice(0, 16).replace("T", " ");
      document.getElementById("event-count").textContent = `${body.total} ${labels.n_events}`;
    } catch (err) {
      state.error = String(err);
    }
  }

  map.on("load", async () => {
    try {
      const [projects, sites] = await Promise.all([
        fetchAll("/api/v1/map/projects"), fetchAll("/api/v1/map/sites?zoom=4"),
      ]);
      state.projectsTotal = projects.total; state.projectsLoaded = projects.features.length;
      state.sitesTotal = sites.total; state.sitesLoaded = sites.features.length;

      map.addSource("sites", { type: "geojson", data: sites });
      map.addLayer({ id: "site-areas", type: "fill", source: "sites",
        filter: ["==", ["get", "site_kind"], "area"],
        paint: { "fill-color": KIND_COLOURS, "fill-opacity": 0.35 } });
      map.addLayer({ id: "site-area-edges", type: "line", source: "sites",
        filter: ["==", ["get", "site_kind"], "area"],
        paint: { "line-color": KIND_COLOURS, "line-width": 0.8 } });
      map.addLayer({ id: "site-lines", type: "line", source: "sites",
        filter: ["==", ["get", "site_kind"], "line"],
        paint: { "line-color": KIND_COLOURS, "line-width": ["interpolate", ["linear"], ["zoom"], 2, 1.2, 10, 3.5] } });

      map.addSource("events", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
      map.addLayer({ id: "event-points", type: "circle", source: "events",
        paint: { "circle-color": GRADE_COLOURS, "circle-opacity": 0.85, "circle-stroke-color": "#3f007d",
          "circle-stroke-width": 0.5,
          "circle-radius": ["match", ["get", "severity"], "I", 7, "II", 5.5, "III", 4, 3] } });
      map.on("click", "event-points", (e) => {
        new maplibregl.Popup().setLngLat(e.lngLat).setHTML(eventPopup(e.features[0].properties)).addTo(map);
      });
      await refreshEvents();
      setInterval(refreshEvents, EVENT_REFRESH_MS);

      map.addSource("projects", { type: "geojson", data: projects, cluster: true,
        clusterRadius: 40, clusterMaxZoom: 9 });
      map.addLayer({ id: "clusters", type: "circle", source: "projects", filter: ["has", "point_count"],
        paint: { "circle-color": "#12263a", "circle-opacity": 0.85,
          "circle-radius": ["step", ["get", "point_count"], 11, 20, 15, 100, 19, 500, 24] } });
      map.addLayer({ id: "project-pins", type: "circle", source: "projects", filter: ["!", ["has", "point_count"]],
        paint: { "circle-color": KIND_COLOURS, "circle-radius": 5, "circle-stroke-color": "#fff", "circle-stroke-width": 1.2 } });

      map.on("click", "clusters", async (e) => {
        const feature = e.features[0];
        const zoom = await map.getSource("projects").getClusterExpansionZoom(feature.properties.cluster_id);
        map.easeTo({ center: feature.geometry.coordinates, zoom });
      });
      for (const layer of ["project-pins", "site-areas", "site-lines"]) {
        map.on("click", layer, (e) => {
          new maplibregl.Popup().setLngLat(e.lngLat).setHTML(popupHtml(e.features[0].properties)).addTo(map);
        });
        map.on("mouseenter", layer, () => { map.getCanvas().style.cursor = "pointer"; });
        map.on("mouseleave", layer, () => { map.getCanvas().style.cursor = ""; });
      }
      map.on("render", () => { if (map.isSourceLoaded("projects")) updateClusterCounts(); });
      showStatus();
      map.once("idle", () => { state.ready = true; });
    } catch (err) {
      state.error = String(err);
      statusEl.textContent = state.error;
    }
  });
})();
