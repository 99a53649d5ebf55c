#!/usr/bin/env bash
# The catalogs of the six languages (app/i18n/locale/<lang>/LC_MESSAGES/messages.po):
#   scripts/i18n.sh extract   the words in app/ (Python and templates) -> messages.pot
#   scripts/i18n.sh update    merge messages.pot into every language's .po (new words empty)
#   scripts/i18n.sh compile   every .po -> .mo (what the service loads; the wheel carries them)
#   scripts/i18n.sh all       the three in turn, after adding or changing words
# tests/i18n/test_catalogs.py fails while a word lacks a translation or a .mo is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
pybabel=${PYBABEL:-.venv/bin/pybabel}
locale=app/i18n/locale
extract() {
    "$pybabel" -q extract -F babel.cfg -k N_ --no-location --sort-output \
        --project u4ssc-calendar -o "$locale/messages.pot" .
}
update() {
    for lang in ar es fr ru zh; do
        po=$locale/$lang/LC_MESSAGES/messages.po
        if [[ -f $po ]]; then
            "$pybabel" -q update --no-fuzzy-matching --ignore-obsolete \
                --ignore-pot-creation-date -i "$locale/messages.pot" -d "$locale" -l "$lang"
        else
            "$pybabel" -q init -i "$locale/messages.pot" -d "$locale" -l "$lang"
        fi
    done
}
compile() {
    "$pybabel" -q compile -d "$locale"
}
case ${1:-} in
extract) extract ;;
update) update ;;
compile) compile ;;
all) extract && update && compile ;;
*) sed -n 2,7p "$0" >&2; exit 2 ;;
esac
