# Shared by the Bats files that use the fake id.twitch.tv (tests/fakes/twitch_id.py): a token
# store seeded by hand, and the check that no secret reached a log. Load with
# `load token-helpers`; they use $STORE (the store directory), $SECRETS (every secret the test
# and the fake know, one a line) and $CID.

# seed LOGIN ACCESS REFRESH SECONDS: a store file for LOGIN whose token expires in SECONDS.
seed() {
  mkdir -p "$STORE"
  chmod 700 "$STORE"
  local exp
  exp=$(date -u -d "@$(( $(date +%s) + $4 ))" +%Y-%m-%dT%H:%M:%S.000Z)
  printf '{"kind":"user","login":"%s","user_id":"141981764","client_id":"%s","scopes":["chat:read"],"expires_at":"%s","access_token":"%s","refresh_token":"%s"}\n' \
    "$1" "$CID" "$exp" "$2" "$3" > "$STORE/$1.json"
  chmod 600 "$STORE/$1.json"
  printf '%s\n%s\n' "$2" "$3" >> "$SECRETS"
}

# no_secret_in FILE...: fails naming (the start of) the first secret of $SECRETS found in a FILE.
no_secret_in() {
  local s
  while read -r s; do
    [ -z "$s" ] && continue
    if grep -qF -- "$s" "$@"; then
      echo "a secret (${s:0:3}...) is in the logs:" >&2
      cat "$@" >&2
      return 1
    fi
  done < "$SECRETS"
}
