"""Read models: what the pages, the API and the CLI list and show, one module per page.

Every function takes the actor and filters by their tenant in SQL; lists are paginated and
served by the indexes on (assignee, state, due_on) and (state, state_changed_at).
"""
