// Chinese text on machines without a Chinese font of their own.
//
// The platform serves its own CJK font (Noto Sans SC subset). It is added to the page's font
// stack only once it has loaded: Chromium can leave text shaped while a web font is still
// loading as empty boxes, so the font never sits in the stack in a "loading" state. Machines
// that draw Chinese themselves never download it.
(function () {
  "use strict";
  const root = document.documentElement;
  const ctx = document.createElement("canvas").getContext("2d");
  function draw(text) {
    ctx.clearRect(0, 0, 48, 48);
    ctx.font = "32px system-ui, sans-serif";
    ctx.fillText(text, 4, 36);
    return ctx.getImageData(0, 0, 48, 48).data.join(",");
  }
  // A Chinese character drawn exactly like an unassigned private-use one is a missing glyph.
  const systemDrawsChinese = draw("\u5168") !== draw("\uE000");
  window.allweatherFonts = { systemDrawsChinese, platformFont: "not needed" };
  if (systemDrawsChinese || !document.fonts) return;
  root.classList.add("cjk-font-pending");
  window.allweatherFonts.platformFont = "loading";
  let settled = false;
  function settle(state) {
    if (settled) return;
    settled = true;
    window.allweatherFonts.platformFont = state;
    root.classList.remove("cjk-font-pending");
    if (state === "loaded") root.classList.add("cjk-font");
  }
  document.fonts.load("16px 'Allweather SC'", "\u5168").then(
    (faces) => settle(faces.length ? "loaded" : "failed"),
    () => settle("failed"),
  );
  setTimeout(() => settle("timeout"), 5000);  // a slow link shows boxes rather than nothing
})();
