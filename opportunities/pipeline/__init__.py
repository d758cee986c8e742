"""The sales pipeline: opportunities by stage (board, list, detail, moves), the
opportunity pool (claim, assign) and the conversion of a lead into a customer and an
opportunity (forms, selectors, services, conversion, views, urls)."""
