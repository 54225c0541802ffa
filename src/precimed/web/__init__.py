"""Server-rendered pages, Chinese by default with an English switch (issue 5)."""
