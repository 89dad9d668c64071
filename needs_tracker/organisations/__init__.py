"""Companies, universities, institutes and government bodies of a centre."""
