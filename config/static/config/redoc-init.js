// Starts ReDoc from a static file: no inline script under the Content-Security-Policy.
// Loaded (with the response's nonce) before ReDoc's bundle, which injects <style> elements as
// it loads and renders: each one gets this script's nonce. Only scripts the policy already let
// run can insert elements, so this grants nothing to injected markup.
"use strict";
(function () {
  const script = document.currentScript;
  const nonce = script.nonce;
  for (const method of ["appendChild", "insertBefore"]) {
    const original = Node.prototype[method];
    Node.prototype[method] = function (node, ...rest) {
      if (node instanceof HTMLStyleElement && !node.nonce) node.nonce = nonce;
      return original.call(this, node, ...rest);
    };
  }

  // ReDoc's footer shows a logo from its CDN. Served offline and under CSP, that one image is
  // skipped (its alt text shows instead) rather than fetched from another origin.
  const offsite = (name, value) => name === "src" && String(value).startsWith("https://cdn.redoc.ly/");
  const setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    if (this instanceof HTMLImageElement && offsite(name, value)) return undefined;
    return setAttribute.call(this, name, value);
  };
  const src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {
    ...src,
    set(value) {
      if (!offsite("src", value)) src.set.call(this, value);
    },
  });

  document.addEventListener("DOMContentLoaded", () => {
    const container = document.getElementById("redoc-container");
    Redoc.init(script.dataset.specUrl, { nonce }, container);
  });
})();
