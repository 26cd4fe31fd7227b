/**
 * The console's only stylesheet and script, served from memory (no build step). console.js: live
 * updates of the Now page from the event stream, confirmations before a write, and the automatic
 * hand-over of the App manifest to GitHub. Everything works without it but the live part.
 */

export const CONSOLE_CSS = `:root{--bg:#fff;--fg:#1b1f24;--muted:#59636e;--line:#d1d9e0;--card:#f6f8fa;--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--link:#0969da;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--card:#151b23;--ok:#3fb950;--bad:#f85149;--warn:#d29922;--link:#4493f8}}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;background:var(--bg);color:var(--fg)}
a{color:var(--link)}a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible{outline:3px solid var(--link);outline-offset:2px}
header{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;padding:.5rem 1rem;border-bottom:1px solid var(--line);background:var(--card)}
.brand{font-weight:700;text-decoration:none;color:var(--fg)}nav{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;flex:1}
nav ul{display:flex;flex-wrap:wrap;gap:.25rem 1rem;list-style:none;margin:0;padding:0}nav [aria-current]{font-weight:700;text-decoration:none;color:var(--fg)}
.logout{margin-left:auto;display:flex;gap:.5rem;align-items:center;color:var(--muted)}
main{padding:0 1rem 2rem;max-width:80rem;margin:0 auto}h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.5rem}
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}thead th{color:var(--muted);font-weight:600}
.badge{display:inline-block;padding:0 .45rem;border-radius:1rem;border:1px solid var(--line);font-size:.85em;white-space:nowrap}
.ok,.success,.completed,.idle{color:var(--ok)}.failed,.failure,.cancelled{color:var(--bad)}.drained,.queued,.busy,.in_progress{color:var(--warn)}
.detail,.hint,.updated,.empty,.live{color:var(--muted);font-size:.9em}.count{color:var(--muted);font-weight:400}
.flash{border-left:4px solid var(--ok);padding:.5rem 1rem;background:var(--card)}.error{border-left:4px solid var(--bad);padding:.5rem 1rem;background:var(--card)}
.actions{white-space:nowrap}.act{display:inline-flex;gap:.25rem;margin:0 .25rem .25rem 0}.act input[type=number]{width:4.5rem}
button{font:inherit;padding:.3rem .8rem;border:1px solid var(--line);border-radius:.4rem;background:var(--card);color:var(--fg);cursor:pointer;min-height:2.2rem}
input{font:inherit;padding:.3rem .5rem;border:1px solid var(--line);border-radius:.4rem;background:var(--bg);color:var(--fg);min-height:2.2rem}
.login,.setup{display:flex;flex-direction:column;gap:.5rem;max-width:28rem}fieldset{border:1px solid var(--line);border-radius:.4rem}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{color:var(--muted)}dd{margin:0}code{overflow-wrap:anywhere}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:40rem){th,td{padding:.3rem}.logout{margin-left:0}}`;

export const CONSOLE_JS = `"use strict";(()=>{
document.addEventListener("submit",(e)=>{const f=e.target;if(!(f instanceof HTMLFormElement)||!f.dataset.confirm)return;
if(!window.confirm(f.dataset.confirm)){e.preventDefault();return}
if(!f.querySelector("input[name=confirm]")){const i=document.createElement("input");i.type="hidden";i.name="confirm";i.value="yes";f.append(i)}});
const live=document.querySelector("[data-live]");const status=document.getElementById("live-status");
if(live&&"EventSource"in window){const es=new EventSource(live.dataset.live);
es.addEventListener("open",()=>{if(status)status.textContent="live"});
es.addEventListener("error",()=>{if(status)status.textContent="reconnecting…"});
es.addEventListener("now",(e)=>{const a=document.activeElement;if(a&&live.contains(a)&&a.matches("input,select,textarea"))return;live.innerHTML=JSON.parse(e.data)});}
const auto=document.querySelector("form[data-autosubmit]");if(auto)auto.submit();})();`;
