"""Route groups of the staff API; `bot.api.routes` mounts them under /staff/.

- `auth`: the bearer-token dependency (`current_staff`, `Staff`);
- `plumbing`: one unit of work per action, refusals audited and turned into HTTP errors;
- `members`, `tokens`, `broadcasts`, `slots`, `bookings`, `beneficiaries`, `stats`: the routes, each
  module with its own `APIRouter` and its pydantic models (`models` holds the shared ones).
"""

__all__: list[str] = []
