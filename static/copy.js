// Adds a "Copy" button beside a value the page shows. The page works without it: the value is
// plain text the person can select.
document.querySelectorAll(".copy-slot").forEach(function (slot) {
  var target = document.getElementById(slot.dataset.copyTarget);
  if (!target || !navigator.clipboard) {
    return;
  }
  var button = document.createElement("button");
  button.type = "button";
  button.className = "button small";
  button.id = "copy-key";
  button.textContent = slot.dataset.label;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(target.textContent).then(function () {
      button.textContent = slot.dataset.done;
    });
  });
  slot.appendChild(button);
});
