// Map dashboard: every project as a clustered pin, footprints and corridors drawn.
// Everything comes from this platform (basemap, library, data): it works with no internet.
(function () {
  "use strict";

  const lang = document.body.dataset.lang || "zh";
  const labels = JSON.parse(document.getElementById("labels").textContent);
  const statusEl = document.getElementById("status");
  const KIND_COLOURS = ["match", ["get", "kind"],
    "flagship", "#6a3d9a", "livelihood", "#2e8b57", /* general */ "#5f6b7a"];

  // Exposed for the browser tests and for curious users in the console.
  const state = (window.allweather = {
    projectsTotal: null, projectsLoaded: 0, sitesTotal: null, sitesLoaded: 0,
    ready: false, error: null, map: null,
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
