"use strict";
// Shared by the dashboard and the reports page.
// The one duration formatter (the CLI's table uses the same rules): two units at most.
function duration(seconds) {
  const total = Math.round(Math.abs(seconds));
  const d = Math.floor(total / 86400), h = Math.floor(total % 86400 / 3600);
  const m = Math.floor(total % 3600 / 60), s = total % 60;
  const pad = n => String(n).padStart(2, "0");
  return d ? `${d}d ${pad(h)}h` : h ? `${h}h ${pad(m)}m` : m ? `${m}m ${pad(s)}s` : `${s}s`;
}
// Every page writes what the API sends with textContent: names, subjects and questions are never parsed as HTML.
function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}
function svg(tag, attrs, text) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}
