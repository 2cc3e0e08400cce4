// Build-time first frames: the page's own renderer (templates/assets/js/scene.js, DOM-free) run under node.
// Usage: node frames.mjs PATH/TO/scene.js  <  [{id, scene, controls, state}, …]  >  ["<div class=panels>…", …]
import {readFileSync} from "node:fs";
import {pathToFileURL} from "node:url";

const {figureFrameHTML} = await import(pathToFileURL(process.argv[2]).href);
const items = JSON.parse(readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(items.map((i) => figureFrameHTML(i.id, i.scene, i.controls, i.state))));
