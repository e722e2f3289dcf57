from callback.main import main

main()
