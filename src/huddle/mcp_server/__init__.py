"""huddle for any MCP client: a stdio server whose tools run huddle's own verbs (one
implementation, two front doors). `main.main` is the one way in; `speaker` says who speaks,
`verbs` runs a verb for it, `server` declares the tools."""
