// hellopp: C++ with iostream, std::string, std::vector and a static object whose
// constructor runs before main and destructor after it.
#include <iostream>
#include <string>
#include <vector>

namespace {

struct Announcer {
	Announcer() { std::cout << "static ctor ran" << std::endl; }
	~Announcer() { std::cout << "static dtor ran" << std::endl; }
};

Announcer announcer;

} // namespace

int
main()
{
	std::string greeting = "hello, c++";
	std::vector<int> v;

	for (int i = 1; i <= 5; i++)
		v.push_back(i * i);
	std::cout << greeting << std::endl;
	std::cout << "vector:";
	for (int x : v)
		std::cout << ' ' << x;
	std::cout << std::endl;
	return 0;
}
