/* DOM helpers shared by the staff pages (desk, reports, announcements).
 *
 *   make(tag, className?, text?) → a new element; text goes in through textContent only.
 *   elementsById({ key: "element-id", … }) → { key: element, … }; missing ids come back null.
 *   plain(text) → lower case without diacritics, spaces squeezed: "Phường Ba Đình" → "phuong ba dinh".
 */

export function make(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

export function elementsById(ids) {
  const found = {};
  for (const [key, id] of Object.entries(ids)) found[key] = document.getElementById(id);
  return found;
}

export function plain(text) {
  return String(text)
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/đ/g, "d")
    .replace(/Đ/g, "d")
    .toLowerCase()
    .replace(/\s+/g, " ")
    .trim();
}
