"""How the team is doing: facts derived per port-out (`facts`), the period a page asks for
(`periods`), the aggregations (`selectors`, with `aggregates`), SVG charts (`charts`), CSV
tables (`exports`) and the weekly summary e-mail (`weekly`)."""
