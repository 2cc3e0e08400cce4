// The side menu: a permanent column on wide screens; below that a Menu button opens it as a drawer fixed to the
// viewport (site.css), wherever the reader is on the page. Opening moves focus into it; Escape or a tap or click
// outside or its Close button close it and focus goes back to the button; a chosen link closes it and focus follows the link. Also
// keeps --bar-h, the sticky top bar's height, for scroll-padding-top.
export function initMenu() {
  const button = document.querySelector(".menu-toggle");
  const menu = document.getElementById("menu");
  if (!button || !menu) return;
  const isOpen = () => button.getAttribute("aria-expanded") === "true";
  const setOpen = (open) => {
    button.setAttribute("aria-expanded", String(open));
    menu.classList.toggle("open", open);
    document.body.classList.toggle("menu-open", open);
  };
  const close = ({refocus = true} = {}) => {
    if (!isOpen()) return;
    setOpen(false);
    if (refocus) button.focus({preventScroll: true});
  };
  button.addEventListener("click", () => {
    if (isOpen()) { close(); return; }
    setOpen(true);
    // the drawer is shown only below the wide layout's breakpoint; there focus moves to this page's link
    if (getComputedStyle(menu).position === "fixed") {
      (menu.querySelector("a[aria-current='page']") || menu.querySelector("a")).focus();
    }
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && isOpen()) { e.preventDefault(); close(); }
  });
  // a tap outside the drawer lands on the dimmed page (body::after): it closes the menu and does nothing else
  document.addEventListener("click", (e) => {
    if (!isOpen() || button.contains(e.target)) return;
    if (!menu.contains(e.target)) { e.preventDefault(); e.stopPropagation(); close(); return; }
    // a chosen link: the drawer closes and the link is followed; focus goes where it leads (the section, whose
    // next Tab is within it; another part's heading, navigate.js), not back to the button
    if (e.target.closest("a[href]")) close({refocus: false});
  }, true);
  // the drawer's own Close button: as Escape (delegated: navigate.js swaps the menu's content)
  menu.addEventListener("click", (e) => { if (e.target.closest(".menu-close")) close(); });
  // focus leaving the drawer for the page behind it (Tab past its last link) closes it too
  menu.addEventListener("focusout", (e) => {
    if (isOpen() && e.relatedTarget && !menu.contains(e.relatedTarget) && e.relatedTarget !== button) close({refocus: false});
  });
  const bar = document.querySelector(".topbar");
  if (bar && typeof ResizeObserver !== "undefined") {
    new ResizeObserver(() => {
      if (bar.offsetHeight) document.documentElement.style.setProperty("--bar-h", bar.offsetHeight + "px");
    }).observe(bar);
  }
}
