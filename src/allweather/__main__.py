from allweather.cli import main

main()
