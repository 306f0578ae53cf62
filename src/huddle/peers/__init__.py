"""Who is here and whether they are alive: sessions, their processes, what they hold, how they
leave and how one session continues another."""
