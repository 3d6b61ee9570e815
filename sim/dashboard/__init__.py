"""The dashboard's parts that need no web server: browser-drawn charts and the menus."""
