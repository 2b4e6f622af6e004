//! Closed pipes and failed writes on stdout and stderr end a command cleanly; --out
//! takes only regular files or new names; the smaller command-line edge cases.
