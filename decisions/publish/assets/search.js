// The search page: Pagefind's index, queried with the reader's words folded as the index's
// hidden copy of each page is folded (store/views.py `fold`), so "soknad" finds "søknad".
// Results are built with textContent only: no indexed text is ever read as HTML.
const FOLDED_LETTERS = [["Æ", "ae"], ["æ", "ae"], ["Ø", "o"], ["ø", "o"], ["Å", "a"], ["å", "a"]];
const PAGE_SIZE = 20; // each result shown is one more small request (its fragment)

export function fold(text) {
  for (const [letter, plain] of FOLDED_LETTERS) text = text.split(letter).join(plain);
  text = text.toLowerCase().split("aa").join("a");
  return text.normalize("NFKD").replace(/\p{M}/gu, "");
}

const box = document.getElementById("search-results");
const status = document.getElementById("search-status");
const list = document.getElementById("search-list");
const form = document.querySelector("form.search");
const input = document.getElementById("q");
const more = document.getElementById("search-more");
const siteRoot = new URL("../", import.meta.url);
let pagefind = null;
let latest = 0;

function say(text) { status.textContent = text; }

function counted(count) {
  const text = count === 1 ? box.dataset.one : box.dataset.many;
  return text.replace("{count}", count.toLocaleString(document.documentElement.lang));
}

function item(data) {
  const li = document.createElement("li");
  const link = document.createElement("a");
  link.href = data.url;
  link.textContent = data.meta.title || data.url;
  const meta = document.createElement("p");
  meta.className = "meta";
  meta.textContent = [data.meta.key, data.meta.stage].filter(Boolean).join(" · ");
  const question = document.createElement("p");
  question.textContent = data.meta.question || "";
  li.append(link, meta, question);
  return li;
}

let results = [];

async function showMore(mine) {
  const next = results.slice(list.children.length, list.children.length + PAGE_SIZE);
  const datas = await Promise.all(next.map((r) => r.data()));
  if (mine !== latest) return;
  list.append(...datas.map(item));
  more.hidden = list.children.length >= results.length;
}

async function run(query) {
  const mine = ++latest;
  list.replaceChildren();
  more.hidden = true;
  if (!query.trim()) { say(""); return; }
  say(box.dataset.loading);
  try {
    if (!pagefind) {
      pagefind = await import(new URL("pagefind/pagefind.js", siteRoot));
      await pagefind.options({ baseUrl: siteRoot.pathname });
    }
    const found = await pagefind.search(fold(query));
    if (mine !== latest) return;
    results = found.results;
    await showMore(mine);
    if (mine === latest) say(results.length ? counted(results.length) : box.dataset.none);
  } catch (error) {
    if (mine === latest) say(box.dataset.failed);
  }
}

more.addEventListener("click", () => showMore(latest));

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const url = new URL(location.href);
  url.searchParams.set("q", input.value);
  history.replaceState(null, "", url);
  run(input.value);
});
const asked = new URLSearchParams(location.search).get("q");
if (asked) { input.value = asked; run(asked); }
