"""U4SSC meeting calendar: the action plan as data, JSON and live .ics feeds."""
