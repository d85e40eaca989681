// The home page: the search box has focus, nothing else to load.
document.getElementById("q")?.focus();
