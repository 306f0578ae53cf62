"""The companion: one small process per session that delivers what waits for the session
while it sits idle at its prompt, which wakes it, so that nobody has to type to let it hear.
`main.main` is the one way in (hooks/companion starts it); `watch` is its loop, `follow` keeps
it on its client's current session, `sink` is where what it delivers goes."""
